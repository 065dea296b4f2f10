"""A class board for a hosted demo: a teacher starts a class, students post finished runs to it.

A class lives in ``<runs>/_classes/<code>/``: ``class.json`` (title, created, closed, the hash of
the teacher's key and the visitors who proved they hold it) and one ``posts/<id>.json`` per
posted run, a small copy of what the board shows (model, the settings that differ from the
preset, the run's figure, its last sample grid as PNG bytes on disk beside it). The board never
reads the students' runs again: a run deleted later leaves its card, and 40 cards are 40 small
files.

Who may do what is checked here, not in the page: a student posts only their own finished runs;
only a teacher (the visitor who started the class, or one who opened the private teacher link)
removes a card or closes the class; a class takes ``MAX_STUDENTS`` students, each at most
``MAX_POSTS_EACH`` cards. Every change holds the class's lock (``runs._locked``), so 40 students
posting at once neither lose a card nor overfill the class.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from core import cards, runs
from core.compare import metric_for
from core.i18n import _
from core.paths import runs_root

MAX_STUDENTS = 40
MAX_POSTS_EACH = 3
CODE = re.compile(r"^[a-z0-9]{8}$")
# The figure a card is sorted by: the first of these the run has.
FIGURES = ("accuracy/test", "quality/frechet_distance", "perplexity/val", "classes/covered")


class ClassError(ValueError):
    """What cannot be done, in one line for the page."""


def _root() -> Path:
    return runs_root() / "_classes"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Board:
    folder: Path

    @property
    def code(self) -> str:
        return self.folder.name

    @property
    def info(self) -> dict:
        return json.loads((self.folder / "class.json").read_text())

    def _write_info(self, info: dict) -> None:
        runs._write_json(self.folder / "class.json", info)

    def _lock(self):
        return runs._locked(self.folder / "class.lock")

    # Who ----------------------------------------------------------------------------------------
    def is_teacher(self, visitor: str) -> bool:
        return bool(visitor) and visitor in self.info.get("teachers", [])

    def claim_teacher(self, key: str, visitor: str) -> bool:
        """A visitor holding the teacher key becomes a teacher of this class (True), or not."""
        with self._lock():
            info = self.info
            if not key or not hmac.compare_digest(_hash(key), info["teacher_key_hash"]):
                return False
            if visitor not in info["teachers"]:
                info["teachers"].append(visitor)
                self._write_info(info)
            return True

    # Posts --------------------------------------------------------------------------------------
    def posts(self) -> list[dict]:
        """Every card, newest first."""
        found = []
        for path in (self.folder / "posts").glob("*.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda post: post["posted"], reverse=True)

    def samples(self, post: dict) -> bytes | None:
        path = self.folder / "posts" / f"{post['id']}.png"
        return path.read_bytes() if post.get("has_samples") and path.exists() else None

    def post(self, run: runs.Run, visitor: str, spec) -> dict:
        """Post ``visitor``'s finished ``run`` (of model ``spec``); ClassError says why not."""
        if run.info.get("owner", "") != visitor or not visitor:
            raise ClassError(_("only your own runs can be posted"))
        status = run.status
        if status.get("status") != "finished":
            raise ClassError(_("run {run} has not finished ({status}): post it once it has").format(
                run=run.id, status=status.get("status", "unknown")))
        card = cards.build(run, spec)
        with self._lock():
            info = self.info
            if info.get("closed"):
                raise ClassError(_("this class is closed: the teacher no longer takes runs"))
            posts = self.posts()
            if any(p["run"] == run.id for p in posts):
                raise ClassError(_("run {run} is already on the board").format(run=run.id))
            students = {p["student"] for p in posts}
            if visitor not in students and len(students) >= MAX_STUDENTS:
                raise ClassError(_("the class is full: {count} students have posted").format(
                    count=MAX_STUDENTS))
            mine = [p for p in posts if p["student"] == visitor]
            if len(mine) >= MAX_POSTS_EACH:
                raise ClassError(_("you have {count} runs on the board already: ask the teacher to "
                                   "remove one first").format(count=MAX_POSTS_EACH))
            number = (sorted(students).index(visitor) + 1) if visitor in students else \
                len(students) + 1
            post = {"id": secrets.token_hex(8), "run": run.id, "student": visitor,
                    "student_number": number,
                    "posted": time.time(), "model": spec.name, "title": spec.title,
                    "preset": card["preset"],
                    "changed": {name: values["run"] for name, values in card["config_diff"].items()
                                if name not in ("seed", "time_budget_s")},   # (the demo sets it)
                    "figures": _figures(card["final"]), "step": card["step"],
                    "has_samples": card["images"]["samples"] is not None}
            folder = self.folder / "posts"
            if post["has_samples"]:
                (folder / f"{post['id']}.png").write_bytes(card["images"]["samples"])
            runs._write_json(folder / f"{post['id']}.json", post)
        return post

    def remove(self, post_id: str, visitor: str) -> None:
        if not self.is_teacher(visitor):
            raise ClassError(_("only the teacher can remove a card"))
        if not re.fullmatch(r"[0-9a-f]{16}", post_id or ""):
            raise ClassError(_("no such card"))
        with self._lock():
            for suffix in (".json", ".png"):
                (self.folder / "posts" / f"{post_id}{suffix}").unlink(missing_ok=True)

    def close(self, visitor: str) -> None:
        if not self.is_teacher(visitor):
            raise ClassError(_("only the teacher can close the class"))
        with self._lock():
            info = self.info
            info["closed"] = True
            self._write_info(info)


def _figures(final: list[dict]) -> dict[str, float]:
    return {figure["name"]: figure["run"] for figure in final if figure["name"] in FIGURES}


def headline(post: dict) -> tuple[str, float, bool] | None:
    """(label, value, higher is better) of the figure a card is sorted by, or None."""
    for name in FIGURES:
        if name in post["figures"]:
            metric = metric_for(name)
            return metric.label, post["figures"][name], metric.higher_is_better
    return None


def sort_posts(posts: list[dict], by: str) -> list[dict]:
    """"newest" (the default) or "figure": best first within each kind of figure (test accuracy
    descending, Fréchet distance ascending, ...), kinds in ``FIGURES`` order, cards without a
    figure last."""
    if by == "newest":
        return sorted(posts, key=lambda post: post["posted"], reverse=True)

    def key(post):
        found = headline(post)
        if found is None:
            return (len(FIGURES), 0.0)
        label, value, higher = found
        kind = next(i for i, name in enumerate(FIGURES) if metric_for(name).label == label)
        return (kind, -value if higher else value)
    return sorted(posts, key=key)


def start(teacher: str, title: str = "") -> tuple[Board, str]:
    """A new class of ``teacher``: (its board, the teacher key for the private teacher link)."""
    title = " ".join((title or "").split())[:80] or _("A DL Studio class")
    for _attempt in range(10):
        code = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _i in range(8))
        folder = _root() / code
        try:
            (folder / "posts").mkdir(parents=True, exist_ok=False)
            break
        except FileExistsError:
            continue
    else:
        raise ClassError(_("could not find a free class code; try again"))
    key = secrets.token_urlsafe(24)
    board = Board(folder)
    board._write_info({"code": code, "title": title, "created": time.time(), "closed": False,
                       "teacher_key_hash": _hash(key), "teachers": [teacher] if teacher else []})
    return board, key


def find(code: str) -> Board:
    """The class ``code``; ClassError when there is none (or the code is not one we make)."""
    code = (code or "").strip().lower()
    if not CODE.match(code) or not (_root() / code / "class.json").exists():
        raise ClassError(_("there is no class with the code {code!r}: check the link your "
                           "teacher gave you").format(code=code[:12]))
    return Board(_root() / code)


def join(board: Board, visitor: str) -> None:
    """Remember the class ``visitor`` opened last (their model pages offer *Post to the class*
    in any tab, not only in the one that opened the class link)."""
    folder = _root() / "_joined"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _hash(visitor)[:32]).write_text(board.code)


def joined(visitor: str) -> Board | None:
    """The open class ``visitor`` joined last, or None."""
    try:
        board = find((_root() / "_joined" / _hash(visitor)[:32]).read_text())
    except (OSError, ClassError):
        return None
    return None if board.info.get("closed") else board


def classes_of(teacher: str) -> list[Board]:
    """The classes ``teacher`` teaches, newest first."""
    boards = []
    root = _root()
    if root.exists():
        for folder in root.iterdir():
            if not CODE.match(folder.name):
                continue
            try:
                board = Board(folder)
                if board.is_teacher(teacher):
                    boards.append(board)
            except (OSError, ValueError, KeyError):
                continue
    return sorted(boards, key=lambda board: board.info["created"], reverse=True)
