"""Stack and org deployment lists: newest first unless asc, paging, totals, the status filter, snapshot keys."""

from __future__ import annotations

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox

SNAPSHOT_KEYS = {
    "id",
    "created",
    "modified",
    "status",
    "version",
    "requestedBy",
    "projectName",
    "stackName",
    "pulumiOperation",
    "updates",
    "jobs",
    "initiator",
}


async def test_stack_list_order_paging_and_total(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    ids = [(await api.create())["id"] for _ in range(7)]
    default = (await api.get(api.st())).body
    assert (default["itemsPerPage"], default["total"]) == (10, 7)
    assert [item["id"] for item in default["deployments"]] == ids[::-1]
    assert [item["version"] for item in default["deployments"]] == list(range(7, 0, -1))
    pages = [(await api.get(api.st(), params={"page": str(n), "pageSize": "3"})).body for n in (1, 2, 3, 4)]
    assert [[item["version"] for item in page["deployments"]] for page in pages] == [[7, 6, 5], [4, 3, 2], [1], []]
    assert all(page["total"] == 7 and page["itemsPerPage"] == 3 for page in pages)
    ascending = (await api.get(api.st(), params={"asc": "true", "page": "2", "pageSize": "3"})).body
    assert [item["version"] for item in ascending["deployments"]] == [4, 5, 6]
    assert set(default["deployments"][0]) >= SNAPSHOT_KEYS
    assert default["deployments"][0]["jobs"] == []  # required by the SDK, empty before the job starts


async def test_status_filter(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    done = await api.create()
    await pulumi_sandbox.run_until_idle()
    waiting = [await api.create(), await api.create()]
    succeeded = (await api.get(api.st(), params={"status": "succeeded"})).body
    assert ([item["id"] for item in succeeded["deployments"]], succeeded["total"]) == ([done["id"]], 1)
    queued = (await api.get("/api/orgs/acme/deployments", params={"status": "not-started"})).body
    assert [item["id"] for item in queued["deployments"]] == [w["id"] for w in waiting[::-1]]


async def test_org_list_spans_stacks(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "api/prod", "other/x/y")
    order = [("web/dev", await api.create()), ("api/prod", await api.create("api/prod"))]
    order.append(("web/dev", await api.create()))
    listed = (await api.get("/api/orgs/acme/deployments", params={"pageSize": "2"})).body
    assert listed["total"] == 3
    assert [(item["projectName"], item["stackName"]) for item in listed["deployments"]] == [
        ("web", "dev"),
        ("api", "prod"),
    ]
    assert [item["id"] for item in listed["deployments"]] == [order[2][1]["id"], order[1][1]["id"]]
    empty = (await api.get("/api/orgs/other/deployments")).body
    assert (empty["deployments"], empty["total"]) == ([], 0)
