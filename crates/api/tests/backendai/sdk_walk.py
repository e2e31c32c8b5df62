"""The reference SDK as a script uses it (run by tests/api/backendai.rs
against a live berth: BACKEND_ENDPOINT, BACKEND_ACCESS_KEY and
BACKEND_SECRET_KEY name it). Prints one line per step; an assertion or
an exception fails the test."""

from ai.backend.client.session import Session

with Session() as api:
    s = api.ComputeSession.get_or_create(
        "berth/busybox:latest",
        name="sdk-one",
        resources={"cpu": "0.25", "mem": "64m"},
        resource_opts={"shmem": "16m"},
        envs={"FROM_SDK": "yes"},
        mounts=["bai-data"],
    )
    assert s.created and s.status == "RUNNING", (s.created, s.status)
    print("created", s.id)
    info = s.get_info()
    assert info["sessionName"] == "sdk-one", info
    assert info["environ"]["FROM_SDK"] == "yes", info
    assert info["resourceOpts"]["shmem"] == str(16 << 20), info
    print("info", info["status"])
    page = api.ComputeSession.paginated_list(status="RUNNING")
    ids = [item["id"] for item in page.items]
    assert str(s.id) in ids, ids
    print("list", page.total_count)
    logs = s.get_logs()
    assert "logs" in logs["result"], logs
    print("logs ok")
    s.rename("sdk-two")
    # by its new name, where the reference takes a name or an id
    assert api.ComputeSession("sdk-two").get_info()["sessionId"] == str(s.id)
    print("renamed")
    # (the SDK object keeps the old name: address it by the new one)
    api.ComputeSession("sdk-two").destroy(forced=True)
    print("destroyed")
