"""The ``/api/analytics/*`` list and detail views over each tenant's ad objects, with the
tenancy leaks a fault opens."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.adinsights.analytics import BY_ID_FAULT, CAMPAIGN, LIST_LEAK_FAULT, PAGE_SIZE, Model
from sandbox.adinsights.call import Call
from sandbox.adinsights.drf import paginate
from sandbox.parts.http import Response, json_response


def list_view(model: Model) -> Callable[[Call], Response]:
    def view(call: Call) -> Response:
        rows = model.rows(call.tenant, call.now)
        neighbour = call.world.neighbour(call.tenant)
        if model is CAMPAIGN and neighbour and LIST_LEAK_FAULT in call.world.faults:
            rows.append(model.rows(neighbour, call.now)[0])
        return json_response(*paginate(call.request, rows, PAGE_SIZE))

    return view


def detail_view(model: Model) -> Callable[[Call], Response]:
    """Another tenant's id is as unknown as a made-up one: the queryset is tenant-scoped."""

    def view(call: Call) -> Response:
        owners = [call.tenant]
        neighbour = call.world.neighbour(call.tenant)
        if model is CAMPAIGN and neighbour and BY_ID_FAULT in call.world.faults:
            owners = list(call.world.tenants)
        wanted = call.params["id"]
        for owner in owners:
            found = next((r for r in model.rows(owner, call.now) if r["id"] == wanted), None)
            if found is not None:
                return json_response(200, found)
        return json_response(404, {"detail": f"No {model.name} matches the given query."})

    return view
