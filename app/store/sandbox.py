"""Operating-system limits for the processes that evaluate user SPARQL (query workers).

Applied by each worker once its dataset is loaded, before it takes its first query:

* **No new sockets.** A seccomp-BPF filter (``prctl(PR_SET_NO_NEW_PRIVS)``, then
  ``seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)`` so that every thread is covered) makes
  ``socket()`` fail with EPERM for every address family, and ``io_uring_setup()`` too (an
  io_uring can open sockets without calling ``socket()``); system calls of another ABI (x32,
  i386) fail the same way. The worker only talks to its parent over the pipe it inherited, so
  it needs no new socket; AF_UNIX is refused as well because a Unix socket to nscd or
  systemd-resolved would resolve host names for it (a DNS side channel). So even a SERVICE or
  LOAD that got past :mod:`app.rdf.sparql_guard` cannot reach any host: the engine's connect
  fails before a packet is sent.
* **A memory cap.** ``RLIMIT_AS`` = the address space the worker uses once loaded plus
  ``KG_QUERY_MEMORY_MB``: a query that needs more fails to allocate. Python code gets
  ``MemoryError`` (answered as 503); the Rust engine aborts the process, its parent answers
  503 naming the limit and starts a replacement.

Where the OS does not allow it — not Linux, an architecture other than x86_64 and aarch64, a
kernel without seccomp filters, or a container whose own seccomp profile refuses the call —
the worker logs a warning (``network sandbox unavailable: …``) and runs without the filter:
the lexical guard still refuses SERVICE and LOAD, but there is no second line. ``/ready``
reports nothing different; check the worker log at start-up.
"""

import ctypes
import ctypes.util
import errno
import logging
import os
import platform
import resource
import struct
import sys

logger = logging.getLogger(__name__)

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_BPF_LD_W_ABS = 0x00 | 0x00 | 0x20
_BPF_JEQ_K = 0x05 | 0x10 | 0x00
_BPF_JGE_K = 0x05 | 0x30 | 0x00
_BPF_RET_K = 0x06 | 0x00
_X32_SYSCALL_BIT = 0x40000000


class _Arch:
    def __init__(self, audit: int, socket: int, io_uring_setup: int, seccomp: int, x32: bool) -> None:
        self.audit, self.socket, self.io_uring_setup = audit, socket, io_uring_setup
        self.seccomp, self.x32 = seccomp, x32


#: AUDIT_ARCH_* and syscall numbers (asm/unistd_64.h; asm-generic/unistd.h for aarch64).
_ARCHES = {
    "x86_64": _Arch(0xC000003E, socket=41, io_uring_setup=425, seccomp=317, x32=True),
    "aarch64": _Arch(0xC00000B7, socket=198, io_uring_setup=425, seccomp=277, x32=False),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(arch: _Arch) -> list[tuple[int, int, int, int]]:
    """The BPF program: (code, jt, jf, k); jumps count the instructions they skip."""
    deny = (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EPERM)
    allow = (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW)
    checks: list[tuple[int, int]] = []  # (jump op, k): jump to deny when true
    if arch.x32:
        checks.append((_BPF_JGE_K, _X32_SYSCALL_BIT))
    checks += [(_BPF_JEQ_K, arch.socket), (_BPF_JEQ_K, arch.io_uring_setup)]
    body: list[tuple[int, int, int, int]] = [(_BPF_LD_W_ABS, 0, 0, 0)]  # seccomp_data.nr
    for index, (op, k) in enumerate(checks):
        to_deny = len(checks) - index  # the remaining checks and the allow
        body.append((op, to_deny, 0, k))
    body += [allow, deny]
    head = [(_BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
            (_BPF_JEQ_K, 0, len(body) - 1, arch.audit)]  # another ABI: straight to deny
    return head + body


def forbid_sockets() -> str:
    """Install the filter in this process (all its threads); '' on success, else why not."""
    if not sys.platform.startswith("linux"):
        return f"not Linux ({sys.platform})"
    arch = _ARCHES.get(platform.machine())
    if arch is None or struct.calcsize("P") != 8:
        return f"no seccomp filter for the {platform.machine()} architecture"
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    program = _program(arch)
    filters = (_SockFilter * len(program))(*(_SockFilter(*insn) for insn in program))
    fprog = _SockFprog(len(program), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
    result = libc.syscall(arch.seccomp, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog))
    if result == 0:
        return ""
    old_kernel = result < 0 and ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL)
    if old_kernel and libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0:
        return ""  # this thread only; the query runs on it
    return f"seccomp filter refused: {os.strerror(ctypes.get_errno()) if result < 0 else f'thread {result}'}"


def address_space_bytes() -> int:
    """The address space this process uses now (VmSize), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def cap_memory(extra_mb: int) -> str:
    """Limit the address space to what is in use now plus ``extra_mb``; '' on success, else why not."""
    if not sys.platform.startswith("linux"):
        return f"not Linux ({sys.platform})"
    limit = address_space_bytes() + extra_mb * 1024 * 1024
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError) as exc:
        return f"setrlimit(RLIMIT_AS) failed: {exc}"
    return ""


def confine_worker(memory_mb: int) -> None:
    """Everything above, for a query worker that has loaded its dataset; warns what it cannot do."""
    problem = forbid_sockets()
    if problem:
        logger.warning("network sandbox unavailable (%s): only the SPARQL guard keeps queries off the network",
                       problem)
    problem = cap_memory(memory_mb)
    if problem:
        logger.warning("memory cap unavailable (%s): a query may use all the memory of the machine", problem)


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent exits (Linux ``PR_SET_PDEATHSIG``): a forked query
    worker never outlives its zygote. Exits at once if the parent is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # 9: SIGKILL
    if os.getppid() != parent_pid:
        os._exit(1)
