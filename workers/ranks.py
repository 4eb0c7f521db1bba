"""One job on several devices: the worker starts one process per rank with
torch's own launcher (``torch.distributed.launcher.api.elastic_launch``, what
torchrun runs) and supervises them from the thread that runs the job.

No Django here, in the ranks or in the supervisor: the caller hands
``ranks_train`` the two callbacks single-device jobs give gan_core's trainer
(``on_event`` and ``should_stop``), and the ranks talk to the supervisor over
a Unix socket, one connection each, in JSON lines:

- every rank says hello (rank, pid) and, when it raises, why;
- rank 0 sends every gan_core event (the only event stream of the run);
- the supervisor sends rank 0 the stop reason (cancel, shutdown, lease lost,
  time limit) once ``should_stop`` says so; rank 0 answers it to the trainer's
  poll and gan_core broadcasts the decision (``distributed.decide``).

No rank outlives its supervisor, even one killed with SIGKILL: each rank asks
the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG; it fires when
the *thread* that started it ends, which is the job's thread, blocked here
until the ranks end), checks that its parent is still the worker that
started it (the worker may have died before the request), and exits when its
socket to the supervisor closes. (torch's launcher warns that off the main
thread it cannot install the signal handlers that would stop its workers:
these three are what stands in for them.) Ranks leave the worker's process group: a
SIGTERM to the group (a deploy) reaches the supervisor, which stops them with
a checkpoint, instead of killing them mid-step.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
STOP_POLL_S = 0.2  # how often the supervisor asks should_stop, and relays it


@dataclass(frozen=True)
class RankSpec:
    """What every rank needs to train its share (plain data: it is pickled)."""

    family: str
    config: dict
    data: str  # "builtin:<name>" or the folder whose training cache is built
    out_dir: str
    device: str  # "cpu" or "cuda": rank r trains on visible GPU r
    resume: bool = False
    init_from: str | None = None
    cache_dir: str | None = None
    class_names: tuple[str, ...] = ()
    visible_devices: str = ""  # CUDA_VISIBLE_DEVICES for the ranks ("2,5")
    socket_path: str = ""
    supervisor_pid: int = 0


class RanksFailed(RuntimeError):
    """A rank raised: the job fails with its reason (``oom`` if out of memory)."""

    def __init__(self, rank: int, reason: str, oom: bool):
        super().__init__(f"rank {rank}: {reason}")
        self.rank, self.reason, self.oom = rank, reason, oom


class RanksLost(RuntimeError):
    """A rank died without saying why (killed, say): the job is interrupted."""


# -- in each rank ----------------------------------------------------------------


def _die_with_supervisor(supervisor_pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != supervisor_pid:  # it went before we asked: go too
        os._exit(1)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # out of the worker's group: its SIGTERM is not ours


class _Link:
    """A rank's connection to its supervisor."""

    def __init__(self, path: str, rank: int):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()
        self.reason = ""
        self.send({"hello": rank, "pid": os.getpid()})
        threading.Thread(target=self._listen, name="supervisor", daemon=True).start()

    def send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        with self.lock:
            self.sock.sendall(data)

    def _listen(self) -> None:
        with contextlib.suppress(OSError):
            for line in self.sock.makefile("r", encoding="utf-8"):
                reason = json.loads(line).get("stop")
                if reason and not self.reason:
                    self.reason = str(reason)
        os._exit(1)  # the supervisor is gone: nobody would record this run

    # rank 0's should_stop for the trainer (it reads ``reason`` when stopping)
    def __call__(self) -> bool:
        return bool(self.reason)


def _load(spec: RankSpec):
    import dataclasses

    from gan_core.data.loading import load_data

    image_size = int(spec.config.get("image_size", 0) or 0)
    if spec.cache_dir is None:
        return spec.data
    data = load_data(spec.data, image_size=image_size, cache_dir=spec.cache_dir)
    names = spec.class_names
    if getattr(data, "labels", None) is not None and len(names) == data.num_classes:
        data = dataclasses.replace(data, class_names=tuple(names))
    return data


def rank_main(spec: RankSpec) -> dict:
    """The body of every rank (torch's launcher sets RANK, WORLD_SIZE, ...)."""
    _die_with_supervisor(spec.supervisor_pid)
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if spec.visible_devices:
        os.environ["CUDA_VISIBLE_DEVICES"] = spec.visible_devices
    link = _Link(spec.socket_path, rank)
    import torch

    from gan_core.config import config_from_dict
    from gan_core.trainer import train

    if spec.device == "cpu":  # the machine's cores shared, not multiplied
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // size))
    try:
        result = train(
            config_from_dict(spec.family, spec.config),
            data=_load(spec),
            out_dir=Path(spec.out_dir),
            device=spec.device,
            on_event=(lambda event: link.send({"event": event.to_dict()}))
            if rank == 0
            else None,
            should_stop=link if rank == 0 else None,
            resume=spec.resume,
            init_from=spec.init_from,
        )
    except BaseException as exc:
        reason = f"{exc.__class__.__name__}: {exc}"
        oom = "out of memory" in str(exc).lower() or "OutOfMemory" in reason
        with contextlib.suppress(OSError):
            link.send({"error": reason, "oom": oom, "peer_lost": _peer_lost(exc)})
        raise
    return {"status": result.status, "step": result.step}


def _peer_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says another rank went away (a collective whose peer
    closed its connection): the consequence of that rank's end, not a cause."""
    import torch

    if isinstance(exc, getattr(torch.distributed, "DistNetworkError", ())):
        return True
    text = str(exc)
    return "Connection reset by peer" in text or "Connection closed by peer" in text


# -- in the worker -----------------------------------------------------------------


@dataclass
class _Supervision:
    """The socket side of one run: who said hello, what went wrong, the relay."""

    on_event: Callable[[dict], None]
    should_stop: Callable[[], bool]
    stop_reason: Callable[[], str]
    on_hello: Callable[[int, int], None]
    on_link_end: Callable[[], None]
    pids: dict[int, int] = field(default_factory=dict)
    errors: dict[int, dict] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    links: list[threading.Thread] = field(default_factory=list)

    def serve(self, server: socket.socket) -> None:
        server.settimeout(STOP_POLL_S)
        while not self.done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            link = threading.Thread(
                target=self.talk, args=(conn,), name="rank-link", daemon=True
            )
            link.start()
            self.links.append(link)

    def talk(self, conn: socket.socket) -> None:
        """One rank's messages; for rank 0 also the stop relay."""
        conn.settimeout(STOP_POLL_S)
        try:
            with conn:
                self._talk(conn)
        finally:
            self.on_link_end()  # the caller's per-thread cleanup (DB connection)

    def _talk(self, conn: socket.socket) -> None:
        # Until the rank's end of the socket closes: its last events (stopped,
        # finished) may still be in flight when the launcher returns.
        buffer, rank, relayed = b"", None, False
        while True:
            if rank == 0 and not relayed and self.should_stop():
                conn.sendall((json.dumps({"stop": self.stop_reason()}) + "\n").encode())
                relayed = True
            try:
                chunk = conn.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                rank = self.handle(json.loads(line), rank)

    def handle(self, message: dict, rank: int | None) -> int | None:
        if "hello" in message:
            rank = int(message["hello"])
            self.pids[rank] = int(message["pid"])
            self.on_hello(rank, self.pids[rank])
        elif "event" in message:
            self.on_event(message["event"])
        elif "error" in message and rank is not None:
            self.errors[rank] = message
        return rank


def _launch_config(world_size: int, run_dir: str):
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.launcher.api import LaunchConfig

    # What `torchrun --standalone --nproc-per-node N` configures: a c10d
    # rendezvous on a free local port, one node. No restarts: a lost rank ends
    # the attempt and the job resumes from its checkpoint, as for a lost worker.
    return LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=world_size,
        run_id=f"gan-{uuid.uuid4().hex[:12]}",
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.2,
        start_method="spawn",
        logs_specs=DefaultLogsSpecs(log_dir=run_dir),
        shutdown_timeout=15,
    )


def ranks_train(
    spec: RankSpec,
    *,
    world_size: int,
    on_event: Callable[[dict], None],
    should_stop: Callable[[], bool],
    stop_reason: Callable[[], str],
    on_hello: Callable[[int, int], None] = lambda rank, pid: None,
    on_link_end: Callable[[], None] = lambda: None,
) -> dict:
    """Train ``spec`` on ``world_size`` ranks; rank 0's result ({status, step}).

    ``on_event`` gets rank 0's events as dicts, ``on_hello`` each rank's pid.
    Raises RanksFailed when a rank raised, RanksLost when one died silently.
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch

    run_dir = tempfile.mkdtemp(prefix="gan-ranks-")
    path = os.path.join(run_dir, "s")  # short: Unix socket paths are limited
    watch = _Supervision(on_event, should_stop, stop_reason, on_hello, on_link_end)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(world_size)
    threading.Thread(target=watch.serve, args=(server,), daemon=True).start()
    spec = _with(spec, socket_path=path, supervisor_pid=os.getpid())
    try:
        outputs = elastic_launch(_launch_config(world_size, run_dir), rank_main)(spec)
    except ChildFailedError as exc:
        # A rank's own error fails the job; errors that only say a peer went
        # away (its collective's connection closed) follow a rank that died
        # without one (killed): then the attempt is lost, not the job.
        causes = {r: e for r, e in watch.errors.items() if not e.get("peer_lost")}
        if causes:
            rank, error = min(causes.items())
            raise RanksFailed(rank, error["error"], bool(error.get("oom"))) from exc
        rank, failure = exc.get_first_failure()
        raise RanksLost(
            f"rank {rank} (pid {failure.pid}) ended with exit code "
            f"{failure.exitcode}: {failure.message}"
        ) from exc
    finally:
        watch.done.set()
        server.close()
        for link in watch.links:  # the ranks are gone: their sockets end
            link.join(timeout=10)
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
    return outputs[0]


def _with(spec: RankSpec, **changes) -> RankSpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)
