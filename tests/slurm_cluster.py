"""A real single-node SLURM cluster for the tests: Debian's munged, slurmctld and slurmd started
with their state in a private folder, their own munge key and socket, and free ports. The
slurm.conf goes where every SLURM client looks, /etc/slurm/slurm.conf (a job step's srun is given
no SLURM_CONF), only while the cluster runs: it is removed on exit, so that SLURM's clients are
left unconfigured for other processes. Every process started is stopped by PID, job steps
included."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo", "srun")

CONF = Path("/etc/slurm/slurm.conf")
CONF_MARK = "# acomflow test cluster: removed when the test ends\n"
SLURM_CONF = (
    CONF_MARK
    + """\
ClusterName=acomflow-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={socket}
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=300
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
)


def _program(name: str) -> str | None:
    """Full path of a SLURM or munge program (daemons live in /usr/sbin, not always on PATH)."""
    return shutil.which(
        name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"])
    )


def unavailable() -> str | None:
    """Why SLURM cannot be installed and run here, or None where it can (root on Debian)."""
    if os.geteuid() != 0:
        return "SLURM's daemons are installed and run as root; not root here"
    if not Path("/etc/debian_version").is_file() or shutil.which("apt-get") is None:
        return "SLURM is installed from Debian's packages; this is not Debian"
    if CONF.exists() and not CONF.read_text().startswith(CONF_MARK):
        return (
            f"this host has a SLURM configuration of its own ({CONF}), which the test would replace"
        )
    return None


def install(timeout=900):
    """Install Debian's SLURM and munge packages unless their programs are all there already.
    Raises CalledProcessError (with apt's output) when apt fails."""
    if all(_program(program) for program in PROGRAMS):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES],
    ):
        subprocess.run(
            command, env=env, check=True, capture_output=True, text=True, timeout=timeout
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    """Most of this machine's memory, in MiB, as the node's RealMemory."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)


def _processes() -> dict[int, tuple[int, str]]:
    """{pid: (parent pid, name)} of the running processes, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(") ", 1)
                table[int(entry.name)] = (int(rest.split()[1]), name)
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            pass
    return table


def _job_steps(before: set[int]) -> list[int]:
    """PIDs of the slurmstepd processes not in `before`, and of all their descendants."""
    table = _processes()
    found = {pid for pid, (_, name) in table.items() if name == "slurmstepd"} - before
    while True:
        children = {pid for pid, (parent, _) in table.items() if parent in found} - found
        if not children:
            return sorted(found)
        found |= children


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return not Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def _stop(pids, timeout=20):
    """SIGTERM each PID, then SIGKILL those still alive after `timeout` seconds."""
    for signal in (15, 9):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal)
        deadline = time.monotonic() + timeout
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)


def _cancel_jobs(steps_before, timeout=20):
    """Cancel every job of this user and wait (at most `timeout` s) for their job steps to end."""
    try:
        subprocess.run(
            ["scancel", "--full", f"--user={os.getuid()}"], capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return
    deadline = time.monotonic() + timeout
    while _job_steps(steps_before) and time.monotonic() < deadline:
        time.sleep(0.3)


def _wait(condition, what, timeout, daemons, logs):
    """Wait for `condition`; raise with the daemons' logs when it times out or a daemon exits."""
    deadline = time.monotonic() + timeout
    while not condition():
        exited = [daemon.args[0] for daemon in daemons if daemon.poll() is not None]
        if exited or time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {log}\n{log.read_text()[-2000:]}" for log in logs if log.is_file()
            )
            why = f"{', '.join(exited)} exited" if exited else f"not within {timeout} s"
            raise RuntimeError(f"SLURM test cluster: {what}: {why}\n{tails}")
        time.sleep(0.3)


@contextmanager
def cluster(root: Path):
    """Start a single-node cluster with its state and logs in `root`; yield a dict whose "pids",
    filled on exit, lists every process started. On exit, cancel every job, stop the job steps
    and the daemons by PID, and remove the configuration."""
    for folder in ("state", "spool"):  # a new cluster: no jobs recovered from an earlier one
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir(parents=True)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    logs = [
        root / name
        for name in ("munged.out", "slurmctld.out", "slurmd.out", "slurmctld.log", "slurmd.log")
    ]
    steps_before = set(_job_steps(set()))
    daemons = []
    started = {"pids": []}

    def start(name, *args):
        with open(root / f"{name}.out", "w") as out:
            daemons.append(
                subprocess.Popen(
                    [_program(name), *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def idle():
        result = subprocess.run(
            ["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True
        )
        return result.stdout.strip() == "idle"

    # munged wants every folder above its socket open to all: not so under pytest's tmp_path.
    socket_dir = Path(tempfile.mkdtemp(prefix="acomflow-munge-", dir="/run"))
    try:
        socket_dir.chmod(0o755)
        munge_socket = socket_dir / "munge.socket"
        CONF.parent.mkdir(parents=True, exist_ok=True)
        CONF.write_text(
            SLURM_CONF.format(
                host=socket.gethostname().split(".")[0],
                root=root,
                socket=munge_socket,
                ctld_port=_free_port(),
                slurmd_port=_free_port(),
                cpus=os.cpu_count(),
                memory_mb=_memory_mb(),
            )
        )
        start(
            "munged",
            "--foreground",
            f"--socket={munge_socket}",
            f"--key-file={key}",
            f"--pid-file={root}/munged.pid",
            f"--seed-file={root}/munged.seed",
            f"--log-file={root}/munged.log",
        )
        _wait(munge_socket.exists, "munged opening its socket", 30, daemons, logs)
        start("slurmctld", "-D")
        start("slurmd", "-D")
        _wait(idle, "the node coming up idle", 60, daemons, logs)
        yield started
    finally:
        if len(daemons) > 1:  # slurmctld started
            _cancel_jobs(steps_before)
        started["pids"] = _job_steps(steps_before) + [daemon.pid for daemon in reversed(daemons)]
        _stop(started["pids"])
        for daemon in daemons:
            daemon.wait()
        shutil.rmtree(socket_dir, ignore_errors=True)
        CONF.unlink(missing_ok=True)
