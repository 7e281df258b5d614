"""Observations every area of the MVP reads: the projects a check ranges over, the
diagnostics' session on a project, the server's env file, the project-scoped API reads
(``GET /jobs/status``, ``GET /jobs/scheduler``) and the read-only database role."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from diagnostics.chatwoot import mvp
from fixtures.context import Context
from fixtures.plugin import run_state
from fixtures.probes.http import Response
from fixtures.shared import rows_from


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Checks that take ``project`` run once per project of ``[chatwoot.app] projects``."""
    section = run_state(metafunc.config).section("chatwoot")
    if "smoke" in metafunc.fixturenames:
        _smoke_cases(metafunc, section)
        return
    if "project" not in metafunc.fixturenames:
        return
    names = [str(p) for p in section.area("app").get("projects", [])] if section else []
    if getattr(metafunc.function, "first_project_only", False):
        names = names[:1]
    metafunc.parametrize("project", names)


def _smoke_cases(metafunc: pytest.Metafunc, section) -> None:
    """A smoke query runs as the session of the project it names, its case id its name."""
    queries = section.area("search").get("smoke_queries", []) if section else []
    cases = [q for q in queries if isinstance(q, dict) and q.get("query")]
    metafunc.parametrize("project,smoke", [(str(q.get("project", "")), q) for q in cases],
                         ids=[str(q.get("name", n)) for n, q in enumerate(cases)],
                         indirect=["smoke"])


@pytest.fixture
def session(diag: Context, project: str) -> mvp.Session:
    """The diagnostics' session on the project; the session gate made it."""
    found = mvp.sessions(diag).get(project)
    if found is None:
        pytest.skip(f"not run: no session on {project} (see chatwoot.auth.session)")
    return found


@pytest.fixture
def server_env(diag: Context) -> mvp.ServerEnv:
    """The server's credentials: its env file, or the profile's ``[chatwoot.server_env]``
    env vars when it names no file (read per file version; the evidence goes to each
    asking check)."""
    if not diag.profile.paths.get("env_file") and not diag.profile.area("server_env"):
        pytest.skip(f"not run: the target profile names no {diag.profile.table('paths')} "
                    f"env_file and no {diag.profile.table('server_env')}")
    return mvp.server_env(diag)


@pytest.fixture
def env_file(diag: Context) -> mvp.ServerEnv:
    """The server's env file itself: whether a setting is set on the server can only be
    read there, never from the diagnostics' own environment."""
    if not diag.profile.paths.get("env_file"):
        pytest.skip(f"not run: the target profile names no {diag.profile.table('paths')} "
                    "env_file")
    return mvp.server_env(diag)


def project_get(path: str) -> Callable:
    """A fixture that GETs ``path`` as the project's session (memoised per run)."""

    @pytest.fixture
    def read(diag: Context, session: mvp.Session) -> Response:
        return diag.http.get(mvp.APP, path, headers=session.headers)

    return read


jobs_status = project_get("/jobs/status")
scheduler = project_get("/jobs/scheduler")


@pytest.fixture
def rows(diag: Context):
    """Queries as the read-only role (``[chatwoot.dsn] cw_db``)."""
    return rows_from(diag, "cw_db")


@pytest.fixture
def project_id(rows, project: str) -> str:
    """The project's id, read from ``projects`` by name."""
    found = rows("select id::text from projects where name = %s", (project,))
    if not found:
        pytest.fail(f"no row in projects is named {project}: fix [chatwoot.app] projects",
                    pytrace=False)
    return found[0][0]


def latest_job(status: Response, name: str) -> dict:
    """The latest ``job_runs`` row of a job, as ``GET /jobs/status`` lists it."""
    jobs = status.body("jobs") if status.status == 200 else None
    return next((j for j in jobs or [] if isinstance(j, dict) and j.get("job_name") == name),
                {})


@pytest.fixture
def smoke(request: pytest.FixtureRequest) -> dict:
    return request.param
