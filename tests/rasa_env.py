"""A Rasa Open Source 3.6 environment for tests that talk to a real Rasa server.

Rasa installs only on Python < 3.11, so it never is a dependency of Parley: it lives in its own
Python 3.10 virtualenv in a cache folder (`$PARLEY_CACHE_DIR`, default `~/.cache/parley`):

    rasa-3.6-venv/                 the venv (about 2.7 GB), `.parley-ok-rasa-3.6.21` marks success
    rasa-models/<hash>/model.tar.gz  trained models, keyed by a hash of the project's files
    rasa-work/                     working folder for `rasa train`/`rasa run` (Rasa's .rasa/cache)

Measured on the 2-core project machine: installing takes 1.5-2.5 min (2.7 GB), training
`tests/rasa_project` 50-65 s (1.5 GB peak memory), and `rasa run` answers `GET /status` 30-50 s
after it starts (most of it loading the model; 1.4 GB resident). Tests that need a live Rasa
should therefore start one server per session, not per test.

Only the standard library is used, so this module imports anywhere. Nothing here runs at import
time; call the functions from a fixture:

    venv = ensure_rasa_venv()                        # slow the first time only
    model = ensure_trained_model(Path("tests/rasa_project"))
    proc = start_rasa(model, free_port())
    ...
    stop_rasa(proc)
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

RASA_VERSION = "3.6.21"
VENV_NAME = "rasa-3.6-venv"
MARKER_NAME = f".parley-ok-rasa-{RASA_VERSION}"

# Not needed for pip to succeed, but without them pip backtracks through ten jax/jaxlib
# releases (about 1 GB of wheels) before it finds that tensorflow 2.12 + numpy 1.23 need 0.4.30.
PIP_CONSTRAINTS = ("jax==0.4.30", "jaxlib==0.4.30")

# Keep Rasa quiet and offline: no telemetry prompt or upload, no SQLAlchemy 2.0 banner.
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore",
}

# Project files that feed training (anything else in the folder, like models/, is ignored).
_PROJECT_SUFFIXES = {".yml", ".yaml", ".json", ".md", ".txt"}
_IGNORED_DIRS = {".rasa", "models", "__pycache__", "results", "tests"}


class RasaEnvError(RuntimeError):
    """Rasa could not be installed, trained or started; the message says why."""


def cache_dir() -> Path:
    return Path(os.environ.get("PARLEY_CACHE_DIR") or Path.home() / ".cache" / "parley").expanduser()


def venv_dir() -> Path:
    return cache_dir() / VENV_NAME


def rasa_executable() -> Path:
    return venv_dir() / "bin" / "rasa"


def _rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_ENV)
    # A virtualenv of the caller (Parley's Python 3.11) must not leak into the Rasa one.
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(venv_dir())
    env["PATH"] = f"{venv_dir() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _is_python310(candidate: str) -> bool:
    try:
        out = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=False, capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "3.10"


def find_python310() -> str | None:
    """A Python 3.10 interpreter: $PARLEY_RASA_PYTHON, `python3.10` on PATH, or a pyenv build."""
    candidates: list[str] = []
    if os.environ.get("PARLEY_RASA_PYTHON"):
        candidates.append(os.environ["PARLEY_RASA_PYTHON"])
    on_path = shutil.which("python3.10")
    if on_path:
        candidates.append(on_path)
    candidates.extend(sorted(glob.glob("/root/.pyenv/versions/3.10*/bin/python3.10"), reverse=True))
    pyenv_root = os.environ.get("PYENV_ROOT")
    if pyenv_root:
        candidates.extend(sorted(glob.glob(f"{pyenv_root}/versions/3.10*/bin/python3.10"), reverse=True))
    for candidate in candidates:
        if _is_python310(candidate):
            return candidate
    return None


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock in the cache folder, so parallel test runs do not install twice."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(cmd: list[str], log: Path, what: str, **kwargs: object) -> None:
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, check=False, stdout=out, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RasaEnvError(f"{what} failed (exit {proc.returncode}); see {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _installed_rasa_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        check=False, capture_output=True, text=True, timeout=60,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_rasa_venv() -> Path:
    """The venv with rasa==3.6.21, created and installed only if it is not there yet."""
    venv = venv_dir()
    marker = venv / MARKER_NAME
    if marker.exists() and rasa_executable().exists():
        return venv
    with _locked("rasa-venv"):
        if marker.exists() and rasa_executable().exists():
            return venv
        log = cache_dir() / "rasa-install.log"
        started = time.monotonic()
        if not (venv / "bin" / "python").exists():
            python = find_python310()
            if python is None:
                raise RasaEnvError(
                    "Rasa 3.6 needs Python 3.10: set PARLEY_RASA_PYTHON or put python3.10 on PATH"
                )
            _run_logged([python, "-m", "venv", str(venv)], log, "creating the Rasa venv")
        if _installed_rasa_version(venv) != RASA_VERSION:
            pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
                constraints.write("\n".join(PIP_CONSTRAINTS) + "\n")
            try:
                _run_logged(pip + ["install", "-c", constraints.name, f"rasa=={RASA_VERSION}"],
                            log, f"pip install rasa=={RASA_VERSION}", env=_rasa_env())
            finally:
                os.unlink(constraints.name)
        if _installed_rasa_version(venv) != RASA_VERSION:
            raise RasaEnvError(f"rasa {RASA_VERSION} is not importable in {venv}; see {log}")
        marker.write_text(json.dumps({"rasa": RASA_VERSION, "seconds": round(time.monotonic() - started, 1)}) + "\n")
    return venv


def _project_files(project_dir: Path) -> list[Path]:
    files = []
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if not path.is_file() or path.suffix not in _PROJECT_SUFFIXES:
            continue
        if any(part in _IGNORED_DIRS or part.startswith(".") for part in rel.parts):
            continue
        files.append(path)
    return files


def project_hash(project_dir: Path) -> str:
    """Changes whenever a file that feeds training (or the Rasa version) changes."""
    project_dir = Path(project_dir)
    digest = hashlib.sha256(f"rasa=={RASA_VERSION}\n".encode())
    for path in _project_files(project_dir):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_trained_model(project_dir: Path, timeout: float = 900) -> Path:
    """`rasa train` the project once; later calls return the cached model until a file changes."""
    project_dir = Path(project_dir).resolve()
    model_dir = cache_dir() / "rasa-models" / project_hash(project_dir)
    model = model_dir / "model.tar.gz"
    if model.exists():
        return model
    ensure_rasa_venv()
    with _locked("rasa-train"):
        if model.exists():
            return model
        work = cache_dir() / "rasa-work"  # rasa train keeps its .rasa/cache in the working folder
        work.mkdir(parents=True, exist_ok=True)
        model_dir.mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(prefix="train-", dir=model_dir))
        log = model_dir / "train.log"
        cmd = [
            str(rasa_executable()), "train",
            "--config", str(project_dir / "config.yml"),
            "--domain", str(project_dir / "domain.yml"),
            "--data", str(project_dir / "data"),
            "--out", str(out),
            "--fixed-model-name", "model",
        ]
        try:
            _run_logged(cmd, log, "rasa train", cwd=work, env=_rasa_env(), timeout=timeout)
            trained = out / "model.tar.gz"
            if not trained.exists():
                raise RasaEnvError(f"rasa train wrote no model into {out}; see {log}")
            os.replace(trained, model)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return model


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rasa_status(base_url: str, timeout: float = 2.0) -> dict[str, object] | None:
    """`GET /status` as JSON, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/status", timeout=timeout) as response:
            data = json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def start_rasa(model_path: Path, port: int, timeout: float = 180) -> subprocess.Popen[bytes]:
    """`rasa run --enable-api` on 127.0.0.1:`port`, returned once `GET /status` names the model.

    No `--cors`: only Parley's server talks to Rasa, never a browser. The server's output goes
    to `rasa-work/rasa-run-<port>.log`; `proc.log_path` holds that path.
    """
    ensure_rasa_venv()
    work = cache_dir() / "rasa-work"
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"rasa-run-{port}.log"
    cmd = [
        str(rasa_executable()), "run", "--enable-api",
        "-m", str(Path(model_path).resolve()),
        "-p", str(port), "-i", "127.0.0.1",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=_rasa_env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    proc.log_path = log  # type: ignore[attr-defined]
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RasaEnvError(f"rasa run exited with {proc.returncode} before it answered; see {log}:\n{_tail(log)}")
        status = rasa_status(base_url)
        if status and status.get("model_file"):
            return proc
        time.sleep(0.5)
    message = _tail(log)
    stop_rasa(proc)
    raise RasaEnvError(f"rasa run did not answer GET /status within {timeout:.0f} s:\n{message}")


def stop_rasa(proc: subprocess.Popen[bytes], timeout: float = 20, keep_log: bool = False) -> None:
    """Stop a server from start_rasa (its whole process group) and remove its log."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=timeout)
    log = getattr(proc, "log_path", None)
    if log is not None and not keep_log:
        with contextlib.suppress(OSError):
            Path(log).unlink()


if __name__ == "__main__":  # python tests/rasa_env.py [project_dir]: install, train, start, time it
    project = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "rasa_project"
    t0 = time.monotonic()
    print("venv:", ensure_rasa_venv(), f"({time.monotonic() - t0:.1f} s)", flush=True)
    t1 = time.monotonic()
    model_path = ensure_trained_model(project)
    print("model:", model_path, f"({time.monotonic() - t1:.1f} s)", flush=True)
    t2 = time.monotonic()
    server = start_rasa(model_path, free_port())
    print("rasa run answered /status after", f"{time.monotonic() - t2:.1f} s", flush=True)
    stop_rasa(server)
