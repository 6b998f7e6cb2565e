"""The classic run the Connect ELT test compares with, in a process of its own, started early.

``make test-connect`` runs in one pytest process whose Spark work happens in the Connect server.
The classic run needs a JVM of its own: started with the session, it runs while the other tests
use the server, instead of after them. The landing files are generated once here; the test copies
the same files into its Connect lakehouse.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.test_pipeline import SETTINGS
from zenith.demo.generator import GenerationReport, generate
from zenith.lakehouse.config import Config

REPO = Path(__file__).resolve().parent.parent
# The variables that would send a process to a Spark Connect server instead of a classic session.
REMOTE_VARIABLES = ("ZENITH_SPARK_REMOTE", "SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")
TIMEOUT_SECONDS = 900


@dataclass
class ClassicReference:
    """A classic ``setup`` and ``run`` of ``ELT``'s job over generated landing files, running in the background."""

    volumes: Path  # the generated landing files, to copy into another lakehouse
    generated: GenerationReport
    lakehouse: Path  # where the classic run writes
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, workdir: Path) -> ClassicReference:
        source = workdir / "landing"
        generated = generate(Config(lakehouse=source), SETTINGS, log=lambda _: None)
        lakehouse = workdir / "classic"
        shutil.copytree(source / "Volumes", lakehouse / "Volumes")
        args = ["--lakehouse", str(lakehouse)]
        # Setup and the run (what ELT.py does) in one process, so one JVM start, not two.
        code = f"from zenith.cli import main; raise SystemExit(main({[*args, 'setup']}) or main({[*args, 'run']}))"
        env = {name: value for name, value in os.environ.items() if name not in REMOTE_VARIABLES}
        log = workdir / "classic.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", code], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return cls(source / "Volumes", generated, lakehouse, process, log)

    def wait(self) -> Path:
        """The classic lakehouse once the run has ended; fails with the run's output if it failed."""
        returncode = self.process.wait(timeout=TIMEOUT_SECONDS)
        assert returncode == 0, f"the classic run failed:\n{self.log.read_text()[-3000:]}"
        return self.lakehouse

    def stop(self) -> None:
        """End the run if it is still going (a session that stopped early)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
