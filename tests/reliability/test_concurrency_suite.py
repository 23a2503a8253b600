"""Writers, a reader and the open app at once: every write accounted for, none lost, no
'database is locked' reaching anyone, and the app ends showing exactly what was written.

Three API writers (training scripts registering and promoting), one CLI writer (tags, as a CI
step would) and one reader process run together while the app follows the catalog live.
Waiting is on events (the writers' exit, the app's grid); nothing here asserts a duration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import seed_fraud
from tests.tui.conftest import make_app, settle

API_WRITER = """
import sys
from mltui.core.catalog import open_catalog
path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_catalog(path) as cat:
    for i in range(rounds):
        run = cat.log_run(f"{name}-{i}", metrics={"f1": 0.9}, params={"i": i})
        version = cat.register("fraud", run=run)
        cat.promote(version["id"], "staging", reason=f"{name} {i}", force=True)
        print(f"ok {version['version']}", flush=True)
"""

READER = """
import json, sys
from mltui.core.catalog import open_catalog
path, stop_file = sys.argv[1], sys.argv[2]
import os
seen, reads = 0, 0
with open_catalog(path) as cat:
    while not os.path.exists(stop_file) or reads < 3:
        count = len(cat.versions(cat.version_ids(model="fraud", limit=100000)))
        assert count >= seen, (count, seen)   # a reader never sees the past come back
        seen, reads = count, reads + 1
        history = cat.history(model="fraud", stage="staging", limit=100000)
        assert all(h["to_version"] for h in history if h["action"] == "promote")
print(json.dumps({"reads": reads, "last": seen}), flush=True)
"""

WRITERS, ROUNDS, CLI_TAGS = 3, 8, 6


async def test_writers_reader_and_app_account_for_every_write(tmp_path):
    from mltui.core.catalog import open_catalog

    path = tmp_path / "concurrency.db"
    with open_catalog(path, create=True) as cat:
        seed_fraud(cat)
    env = {**os.environ, "MLTUI_BUSY_TIMEOUT": "30", "NO_COLOR": "1"}
    stop = tmp_path / "stop"
    catalog = open_catalog(path)
    app = make_app(catalog, watch=True, poll_seconds=0.1, start="fraud")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(stop)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        writers = [subprocess.Popen([sys.executable, "-c", API_WRITER, str(path), f"w{n}", str(ROUNDS)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                   for n in range(WRITERS)]
        cli_errors = []
        for i in range(CLI_TAGS):
            result = subprocess.run([sys.executable, "-m", "mltui", "--catalog", str(path), "tag",
                                     "fraud@1", f"k{i}", f"v{i}"], capture_output=True, text=True,
                                    env=env, timeout=120)
            if result.returncode:
                cli_errors.append(result.stderr)
            await pilot.pause()  # the app keeps drawing while everyone writes
        outputs = [w.communicate(timeout=300) for w in writers]
        stop.write_text("")
        reader_out, reader_err = reader.communicate(timeout=300)

        assert not cli_errors, cli_errors
        assert [w.returncode for w in writers] == [0] * WRITERS, [e for _, e in outputs]
        assert reader.returncode == 0, reader_err
        assert not any("locked" in err for _, err in outputs) and "locked" not in reader_err
        acknowledged = [int(line.split()[1]) for out, _ in outputs for line in out.splitlines()]
        expected_total = 3 + WRITERS * ROUNDS
        assert sorted(acknowledged) == list(range(4, expected_total + 1))  # every number once

        # The app converges on exactly what was written (bounded wait on its grid, not a clock).
        grid = app.screen.grid
        for _ in range(400):
            if len(grid.ids) == expected_total:
                break
            await pilot.pause(0.05)
        assert len(grid.ids) == expected_total

    with open_catalog(path) as cat:
        versions = cat.versions(cat.version_ids(model="fraud", limit=100000))
        assert len(versions) == expected_total
        history = cat.history(model="fraud", stage="staging", limit=100000)
        assert len(history) == WRITERS * ROUNDS
        tags = cat.version_detail("fraud@1")["tags"]
        assert {k: tags[k] for k in tags if k.startswith("k")} == {f"k{i}": f"v{i}" for i in range(CLI_TAGS)}
    assert json.loads(reader_out)["last"] <= expected_total
    catalog.close()
