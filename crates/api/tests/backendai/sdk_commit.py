"""The reference SDK saving a session as an image and following the
commit's background task (run by tests/api/backendai.rs against a live
berth; the session's name is the first argument). Prints the task's
events, then the same task followed again after its end."""

import asyncio
import json
import sys

from ai.backend.client.session import AsyncSession


async def follow(api, task_id):
    names = []
    async with api.BackgroundTask(task_id).listen_events() as events:
        async for ev in events:
            if ev.event == "server_close":
                break
            data = json.loads(ev.data)
            assert data["task_id"] == task_id, data
            names.append(ev.event)
            print(ev.event, data.get("message", ""))
    return names


async def main(name):
    async with AsyncSession() as api:
        started = await api.ComputeSession(name).commit()
        task_id = started["task_id"]
        print("task", task_id)
        names = await follow(api, task_id)
        assert names[-1] == "bgtask_done", names
        # followed late, the ended task says how it ended at once
        again = await follow(api, task_id)
        assert again[-1] == "bgtask_done", again
        print("followed again")


asyncio.run(main(sys.argv[1]))
