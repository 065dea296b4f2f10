"""What a hosted demo needs: memory of the server (and its job processes) and /dev/shm use.

    python bench/demo_memory.py          # demo mode, Fashion-MNIST, Debian's chromium

Starts `streamlit run app.py` in demo mode on loopback, measures the summed RSS of the server's
process tree (shared pages count twice: an upper bound) when fresh, after a browser visited 7
pages (the shipped checkpoints and the dataset preloaded), and at the peak of a DCGAN job; and
the peak use of /dev/shm over the whole time (sampled every 20 ms): a Docker container's
shared-memory size (64 MB by default) must hold it. Stops by itself.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def tree_rss_mb(root: int) -> float:
    pids, frontier = {root}, [root]
    while frontier:
        found = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True,
                               text=True).stdout.split()
        for pid in map(int, found):
            if pid not in pids:
                pids.add(pid)
                frontier.append(pid)
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total / 2**20


def main() -> None:
    from playwright.sync_api import sync_playwright
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DLSTUDIO_DEMO": "1", "DLSTUDIO_OFFLINE": "1",
           "DLSTUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="dlstudio-mem-")}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port",
                               str(port), "--server.address", "127.0.0.1", "--server.headless",
                               "true", "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    shm_base, shm_peak, done = shutil.disk_usage("/dev/shm").used, 0, threading.Event()

    def watch_shm():
        nonlocal shm_peak
        while not done.is_set():
            shm_peak = max(shm_peak, shutil.disk_usage("/dev/shm").used - shm_base)
            time.sleep(0.02)
    threading.Thread(target=watch_shm, daemon=True).start()
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        print(f"fresh server:                         {tree_rss_mb(server.pid):6.0f} MB")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            tab = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
            for path in ["", "cnn", "dcgan", "biggan", "stylegan", "language-model", "runs"]:
                tab.goto(f"{url}/{path}")
                tab.wait_for_selector("h1", timeout=120_000)
                time.sleep(3)
            time.sleep(20)
            print(f"7 pages visited, preload done:        {tree_rss_mb(server.pid):6.0f} MB")
            tab.goto(f"{url}/dcgan")
            tab.wait_for_selector("h1")
            time.sleep(3)
            tab.get_by_role("button", name="Train", exact=True).click()
            peak = 0.0
            for _ in range(60):
                time.sleep(1)
                peak = max(peak, tree_rss_mb(server.pid))
            print(f"peak while a DCGAN job trains (60 s): {peak:6.0f} MB")
            browser.close()
    finally:
        done.set()
        server.terminate()
        server.wait(20)
    print(f"peak /dev/shm use:                    {shm_peak / 2**20:6.1f} MB (Docker's default: 64 MB)")


if __name__ == "__main__":
    main()
