"""Dataset sources (builtin, path, URL), checksums, the download cache, splits, and the heat solver."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from carpentry_kit.data.datasets import DatasetError, LoadedDataset, load_dataset, split_indices
from carpentry_kit.data.heat_simulation import grid_points, heat_1d_dataset, solve_heat_1d, stable_time_step
from carpentry_kit.errors import UsageError
from carpentry_kit.spec.model import Dataset

ZERO_SHA = "0" * 64


def digits(splits: dict[str, float] | None = None, seed: int = 0) -> LoadedDataset:
    ds = Dataset(name="digits", source="builtin:digits", splits=splits or {"train": 0.75, "test": 0.25})
    return load_dataset(ds, Path("."), None, seed)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_partition(loaded: LoadedDataset) -> None:
    rows = np.concatenate(list(loaded.splits.values()))
    assert len(rows) == len(loaded.y) == len(np.unique(rows))  # every row once: splits sum and are disjoint


# ---------------------------------------------------------------- builtin data and splits


def test_builtin_digits_are_scikit_learns_digits_read_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    loaded, reference = digits(), load_digits()
    assert np.array_equal(loaded.X, reference.data.astype(np.float32))
    assert np.array_equal(loaded.y, reference.target)
    probe = (
        "import sys; from pathlib import Path; from carpentry_kit.spec.model import Dataset; "
        "from carpentry_kit.data.datasets import load_dataset; "
        "load_dataset(Dataset(name='d', source='builtin:digits', splits={'train': 1.0}), Path('.'), None, 0); "
        "print('sklearn' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root
    )
    assert imported.stdout.strip() == "False"


def test_digits_split_partitions_and_stratifies():
    loaded = digits()
    assert loaded.X.shape == (1797, 64) and loaded.is_classification
    assert_partition(loaded)
    test_X, test_y = loaded.split("test")
    assert abs(len(test_y) / len(loaded.y) - 0.25) < 0.01
    overall = np.bincount(loaded.y) / len(loaded.y)
    assert np.abs(np.bincount(test_y, minlength=10) / len(test_y) - overall).max() < 0.01
    assert test_X.shape == (len(test_y), 64)


def test_splits_deterministic_under_seed():
    first, again, other = digits(seed=4), digits(seed=4), digits(seed=5)
    assert np.array_equal(first.splits["test"], again.splits["test"])
    assert not np.array_equal(first.splits["test"], other.splits["test"])


def test_three_way_split():
    loaded = digits({"train": 0.6, "validation": 0.2, "test": 0.2})
    assert_partition(loaded)
    assert [round(len(rows) / 1797, 2) for rows in loaded.splits.values()] == [0.6, 0.2, 0.2]


def test_unstratified_split_of_regression_targets():
    y = np.linspace(0, 1, 101)
    parts = split_indices(y, {"train": 0.7, "test": 0.3}, seed=0, stratify=False)
    assert [len(rows) for rows in parts.values()] == [71, 30]
    assert len(np.intersect1d(parts["train"], parts["test"])) == 0


def test_unknown_split_and_unknown_builtin():
    with pytest.raises(DatasetError, match=r"datasets\.digits\.splits: has no split 'val'"):
        digits().split("val")
    with pytest.raises(
        DatasetError, match=r"did you mean 'builtin:digits'\? known: builtin:digits, builtin:heat-1d"
    ):
        load_dataset(Dataset(name="d", source="builtin:digit"), Path("."), None, 0)


def test_heat_dataset_is_generated_deterministically():
    ds = Dataset(name="heat-1d", source="builtin:heat-1d")
    first, again = load_dataset(ds, Path("."), None, 1), load_dataset(ds, Path("."), None, 1)
    assert first.X.shape == first.y.shape == (512, 64)
    assert not first.is_classification
    assert np.array_equal(first.X, again.X) and np.array_equal(first.splits["train"], again.splits["train"])
    assert first.meta["diffusivity"] == 0.1
    assert_partition(first)


# ---------------------------------------------------------------- the solver


def sine_mode_error(mode: int, grid: int, alpha: float = 0.1, t_end: float = 0.05) -> float:
    """Largest error of the solver against exp(-alpha (k pi)^2 t) sin(k pi x), relative to the amplitude."""
    x = grid_points(grid)
    solved = solve_heat_1d(np.sin(mode * np.pi * x), alpha, t_end)
    exact = np.exp(-alpha * (mode * np.pi) ** 2 * t_end) * np.sin(mode * np.pi * x)
    return float(np.abs(solved - exact).max() / np.abs(exact).max())


@pytest.mark.parametrize(("mode", "tolerance"), [(1, 1e-5), (2, 2e-4), (4, 3e-3)])
def test_solver_matches_decaying_sine_mode(mode, tolerance):
    assert sine_mode_error(mode, 101) < tolerance


def test_solver_is_second_order_in_space():
    coarse, fine = sine_mode_error(4, 101), sine_mode_error(4, 201)
    assert 0.2 < fine / coarse < 0.3  # halving dx (and dt with it) quarters the error


def test_solver_time_step_is_stable_and_boundaries_fixed():
    dx = 1 / 63
    assert 0.1 * stable_time_step(dx, 0.1) / dx**2 <= 0.5
    X, y, _ = heat_1d_dataset(samples=20, grid=64, seed=0)
    assert np.all(y[:, [0, -1]] == 0)
    assert np.all(np.linalg.norm(y, axis=1) < np.linalg.norm(X, axis=1))  # diffusion loses energy


# ---------------------------------------------------------------- local files


@pytest.fixture
def npz_file(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(path, X=rng.random((40, 3)), y=np.repeat([0, 1], 20))
    return path


def local(path: Path, sha: str, name: str = "mine") -> Dataset:
    return Dataset(name=name, source=path.name, sha256=sha)


def test_npz_path_relative_to_spec(npz_file):
    loaded = load_dataset(local(npz_file, sha256(npz_file)), npz_file.parent, None, 0)
    assert loaded.X.shape == (40, 3) and loaded.is_classification
    assert [len(rows) for rows in loaded.splits.values()] == [32, 8]


def test_csv_with_target_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,target\n" + "".join(f"{i},{i * 2},{'cat' if i % 2 else 'dog'}\n" for i in range(10)))
    loaded = load_dataset(local(path, sha256(path)), tmp_path, None, 0)
    assert loaded.X.shape == (10, 2) and loaded.is_classification
    assert set(loaded.split("test")[1]) == {"cat", "dog"}  # stratified: both classes in a 2-row split


def test_checksum_mismatch_says_expected_and_got(npz_file):
    with pytest.raises(DatasetError) as caught:
        load_dataset(local(npz_file, ZERO_SHA), npz_file.parent, None, 0)
    message = str(caught.value)
    assert message.startswith("datasets.mine.sha256: checksum mismatch")
    assert f"expected {ZERO_SHA} got {sha256(npz_file)}" in message
    assert message.endswith("fix sha256 or the file") and "\n" not in message
    assert isinstance(caught.value, UsageError)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match=r"datasets\.mine\.source: file not found: .*nothing\.npz"):
        load_dataset(Dataset(name="mine", source="nothing.npz", sha256=ZERO_SHA), tmp_path, None, 0)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("no-target.csv", "a,b\n1,2\n", "no 'target' column"),
        ("words.csv", "a,target\nx,1\n", "column 'a' is not numeric"),
        ("data.txt", "1 2 3\n", "unsupported file type '.txt'"),
        ("broken.npz", "not a zip", "not a readable .npz"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DatasetError, match=problem):
        load_dataset(local(path, sha256(path)), tmp_path, None, 0)


def test_npz_without_y(tmp_path):
    path = tmp_path / "x-only.npz"
    np.savez(path, X=np.zeros((4, 2)))
    with pytest.raises(DatasetError, match="has no array y"):
        load_dataset(local(path, sha256(path)), tmp_path, None, 0)


# ---------------------------------------------------------------- URLs and the cache


class _Server:
    """A loopback HTTP server over a folder, counting the GET requests it answers."""

    def __init__(self, folder: Path):
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self):  # noqa: N802 (http.server's naming)
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(npz_file):
    running = _Server(npz_file.parent)
    yield running
    running.close()


def remote(url: str, sha: str) -> Dataset:
    return Dataset(name="remote", source=url, sha256=sha)


def test_download_then_cache_hit(server, npz_file, tmp_path):
    cache = tmp_path / "cache"
    ds = remote(server.url("data.npz"), sha256(npz_file))
    first = load_dataset(ds, tmp_path, cache, 0)
    assert server.requests == ["/data.npz"]
    cached = list(cache.iterdir())
    assert len(cached) == 1 and cached[0].name.endswith("-data.npz") and sha256(cached[0]) == sha256(npz_file)
    second = load_dataset(ds, tmp_path, cache, 0)
    assert server.requests == ["/data.npz"]  # no second request
    assert np.array_equal(first.X, second.X) and first.meta["path"] == str(cached[0])


def test_cache_dir_from_environment(server, npz_file, tmp_path, monkeypatch):
    monkeypatch.setenv("CARPENTRY_CACHE", str(tmp_path / "env-cache"))
    load_dataset(remote(server.url("data.npz"), sha256(npz_file)), tmp_path, None, 0)
    assert [path.suffix for path in (tmp_path / "env-cache").iterdir()] == [".npz"]


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(
        DatasetError, match=rf"expected {ZERO_SHA} got [0-9a-f]{{64}} — fix sha256 or the file"
    ):
        load_dataset(remote(server.url("data.npz"), ZERO_SHA), tmp_path, cache, 0)
    assert list(cache.iterdir()) == []  # no partial or unverified file in the cache


def test_download_404(server, tmp_path):
    with pytest.raises(DatasetError, match=r"datasets\.remote\.source: download of .* failed: HTTP 404"):
        load_dataset(remote(server.url("missing.npz"), ZERO_SHA), tmp_path, tmp_path / "cache", 0)


def test_download_connection_refused(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        DatasetError, match=r"cannot reach .*refused.* — check the URL and the network"
    ) as caught:
        load_dataset(remote(f"http://127.0.0.1:{port}/data.npz", ZERO_SHA), tmp_path, tmp_path / "cache", 0)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- hostile servers: bounded downloads


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """Answers the way a broken or hostile server would: forever, a byte at a time, or by redirecting."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up: the point
            getattr(self, "_" + self.path.strip("/").split(".")[0].replace("-", "_"))()

    def _endless(self):
        self.send_response(200)
        self.end_headers()
        while True:
            self.wfile.write(b"\0" * 65536)

    def _drip(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        while True:
            self.wfile.write(b"x")
            self.wfile.flush()
            threading.Event().wait(0.05)

    def _slow_headers(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        while True:
            self.wfile.write(b"X-Drip: 1\r\n")
            self.wfile.flush()
            threading.Event().wait(0.05)

    def _huge(self):
        self.send_response(200)
        self.send_header("Content-Length", str(10**12))
        self.end_headers()

    def _to_ftp(self):
        self.send_response(302)
        self.send_header("Location", "ftp://127.0.0.1/data.npz")
        self.end_headers()

    def _to_file(self):
        self.send_response(301)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield lambda name: f"http://127.0.0.1:{httpd.server_address[1]}/{name}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tight_limits(monkeypatch):
    monkeypatch.setenv("CARPENTRY_DOWNLOAD_LIMIT_GB", str(1 / 1024))  # 1 MiB
    monkeypatch.setenv("CARPENTRY_DOWNLOAD_TIMEOUT_S", "1.5")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "endless.npz",
            r"the download passed the limit of 1 MiB and was stopped — raise CARPENTRY_DOWNLOAD_LIMIT_GB",
        ),
        ("huge.npz", r"the server announces 1,000,000,000,000 bytes, more than the download limit of 1 MiB"),
        (
            "drip.npz",
            r"the download took longer than 1.5 s and was stopped — raise CARPENTRY_DOWNLOAD_TIMEOUT_S",
        ),
        ("slow-headers.npz", r"the download took longer than 1.5 s and was stopped"),
        (
            "to-ftp.npz",
            r"refused to download ftp://127.0.0.1/data.npz \(a redirect from http://.*only http and https",
        ),
        ("to-file.npz", r"refused to download file:///etc/passwd \(a redirect from .*only http and https"),
    ],
)
def test_a_hostile_download_stops_with_one_line_and_leaves_nothing(
    hostile, tight_limits, tmp_path, name, problem
):
    import time

    cache = tmp_path / "cache"
    started = time.monotonic()
    with pytest.raises(DatasetError, match=r"datasets\.remote\.source: " + problem) as caught:
        load_dataset(remote(hostile(name), ZERO_SHA), tmp_path, cache, 0)
    assert time.monotonic() - started < 15  # the 1.5 s total limit holds (the socket timeout is 30 s)
    assert "\n" not in str(caught.value)
    assert list(cache.iterdir()) == []  # no partial file left behind


def test_the_spec_size_bounds_a_download_exactly(server, npz_file, tmp_path):
    right = npz_file.stat().st_size
    ds = Dataset(name="remote", source=server.url("data.npz"), sha256=sha256(npz_file), size_bytes=right - 1)
    with pytest.raises(
        DatasetError, match=f"announces {right:,} bytes, the spec's size_bytes says {right - 1:,}"
    ):
        load_dataset(ds, tmp_path, tmp_path / "cache", 0)
    exact = ds.model_copy(update={"size_bytes": right})
    assert load_dataset(exact, tmp_path, tmp_path / "cache", 0).meta["sha256"] == sha256(npz_file)


def test_partial_downloads_of_killed_processes_are_removed_on_the_next_start(server, npz_file, tmp_path):
    import subprocess
    import sys

    cache = tmp_path / "cache"
    cache.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = cache / f".download-{dead.stdout.strip()}-abc.part"  # what kill -9 mid-download leaves
    stale.write_bytes(b"partial")
    alive = cache / ".download-1-def.part"  # pid 1 runs: another download in progress is left alone
    alive.write_bytes(b"partial")
    load_dataset(remote(server.url("data.npz"), sha256(npz_file)), tmp_path, cache, 0)
    assert not stale.exists() and alive.exists()


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf"])
def test_bad_download_limits_are_one_line_errors(server, npz_file, tmp_path, monkeypatch, value):
    monkeypatch.setenv("CARPENTRY_DOWNLOAD_TIMEOUT_S", value)
    with pytest.raises(
        DatasetError, match=f"CARPENTRY_DOWNLOAD_TIMEOUT_S='{value}' is not a positive, finite"
    ):
        load_dataset(remote(server.url("data.npz"), sha256(npz_file)), tmp_path, tmp_path / "cache", 0)


def test_an_unwritable_cache_is_a_one_line_error(server, npz_file, tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a directory")
    for cache in (in_the_way, in_the_way / "cache"):
        with pytest.raises(
            DatasetError, match=r"cannot write the download cache .* set CARPENTRY_CACHE"
        ) as caught:
            load_dataset(remote(server.url("data.npz"), sha256(npz_file)), tmp_path, cache, 0)
        assert "\n" not in str(caught.value)
