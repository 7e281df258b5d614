"""An authoritative DNS server on loopback, serving the records its callers give it.

It answers over UDP and TCP on one port, as a real nameserver does, so the diagnostics
resolve names exactly as they would against a deployment's resolver, and never through
the machine's own.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

from sandbox.parts.http import HOST, JOIN_TIMEOUT, RequestLog
from sandbox.parts.lifecycle import Managed

TTL = 300
TXT_CHUNK = 255
@dataclass(frozen=True)
class Record:
    name: str
    rtype: str
    value: str


class DnsServer(Managed):
    """Authoritative for the zones of its records; REFUSED for any other name."""

    name = "dns"

    def __init__(self, records: Iterable[Record], log: RequestLog) -> None:
        self._records = list(records)
        self._log = log
        self._resolver: _Resolver | None = None
        self._servers: list[Any] = []
        self._threads: list[threading.Thread] = []
        self.host = HOST
        self.port = 0

    def add(self, records: Iterable[Record]) -> None:
        """Serve more records (and the zones their SOAs open) from now on."""
        self._records.extend(records)
        if self._resolver is not None:
            self._resolver.zones_from(self._records)

    def start(self) -> Self:
        from dnslib.server import DNSLogger, DNSServer

        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data",
                          logf=lambda *_: None)
        resolver = self._resolver = _Resolver(self._records, self._log)
        for _ in range(20):  # the UDP port may be taken for TCP; try another
            udp = DNSServer(resolver, address=HOST, port=0, logger=quiet)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(resolver, address=HOST, port=port, tcp=True, logger=quiet)
            except OSError:
                udp.server.server_close()
                continue
            self._servers = [udp.server, tcp.server]
            self.port = port
            break
        else:
            raise OSError("no loopback port free for both UDP and TCP")
        for server in self._servers:
            server.daemon_threads = True
            # socketserver's default 0.5 s poll is what shutdown() waits out, per server
            thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                      name="sandbox-dns", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT)
        self._threads = []


class _Resolver:
    def __init__(self, records: list[Record], log: RequestLog) -> None:
        self._records = records
        self._log = log
        self.zones_from(records)

    def zones_from(self, records: list[Record]) -> None:
        self._zones = {r.name.lower() for r in records if r.rtype == "SOA"}

    def resolve(self, request: Any, _handler: socketserver.BaseRequestHandler) -> Any:
        from dnslib import QTYPE, RCODE

        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self._log.record("DNS", f"{qtype} {qname}")
        zone = next((z for z in self._zones if qname == z or qname.endswith(f".{z}")), None)
        if zone is None:
            reply.header.rcode = RCODE.REFUSED
            return reply
        reply.header.aa = 1
        named = [r for r in self._records if r.name.lower() == qname]
        if not named:
            reply.header.rcode = RCODE.NXDOMAIN
        wanted = [r for r in named if r.rtype == qtype] or \
            [r for r in named if r.rtype == "CNAME"]
        for record in wanted:
            reply.add_answer(_rr(record))
        return reply


def _rr(record: Record) -> Any:
    from dnslib import CNAME, MX, QTYPE, RR, SOA, TXT

    if record.rtype == "CNAME":
        data: Any = CNAME(record.value)
    elif record.rtype == "MX":
        preference, exchange = record.value.split()
        data = MX(exchange, int(preference))
    elif record.rtype == "SOA":
        mname, rname = record.value.split()
        data = SOA(mname, rname, (1, 3600, 600, 86400, TTL))
    else:
        raw = record.value.encode()
        data = TXT([raw[i:i + TXT_CHUNK] for i in range(0, len(raw), TXT_CHUNK)])
    return RR(record.name, getattr(QTYPE, record.rtype), rdata=data, ttl=TTL)
