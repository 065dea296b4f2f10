"""The class board page (hosted demo): start a class, join it by its link, post finished runs,
watch the board fill live; the teacher removes cards and closes the class.

Links: the class link is ``/class?code=<code>`` (Streamlit's pages have no path parameters, so
the code is a query parameter). The teacher link adds ``&teacher=<key>``: opening it makes this
browser's visitor a teacher of the class, and the key leaves the address bar at once, so a pasted
address never hands over the teacher's controls.
"""
from __future__ import annotations

import time

import streamlit as st

from core import classes, runs
from core.classes import ClassError
from core.i18n import N_, _, ngettext
from core.registry import MODELS
from ui import state
from ui.links import app_url

URL_PATH = "class"
REFRESH_S = 5.0
PER_ROW = 4
SORTS = (N_("newest first"), N_("by the figure"))     # values stay English; shown through _()


def class_link(code: str) -> str:
    return f"{app_url(URL_PATH)}?code={code}"


def page() -> None:
    st.title(_("Class board"))
    if not state.limits().enabled:
        st.info(_("A class board is part of a hosted demo, where every visitor has their own "
                  "runs: start DL Studio with `DLSTUDIO_DEMO=1` (see the README's *Share it*). "
                  "On your own machine every run is on the Runs page already."))
        return
    visitor = state.seen()
    params = st.query_params
    code = params.get("code", "")
    key = params.get("teacher")
    if key is not None:
        del st.query_params["teacher"]          # never left in the address bar
        try:
            board = classes.find(code)
            if board.claim_teacher(key, visitor):
                st.session_state["class.teacher.note"] = _("You are a teacher of this class now.")
            else:
                st.session_state["class.teacher.note"] = _("That teacher link is not this class's.")
        except ClassError as error:
            st.error(str(error))
            return
    if not code:
        lobby(visitor)
        return
    try:
        board = classes.find(code)
    except ClassError as error:
        st.error(str(error))
        lobby(visitor)
        return
    classes.join(board, visitor)
    show_board(board, visitor)


def lobby(visitor: str) -> None:
    """No class open: start one, or join one by its code; the classes this visitor teaches."""
    st.caption(_("A teacher starts a class and hands out its link; students train on any page, "
                 "then post their finished runs here; everyone sees the board fill, live."))
    start, join = st.columns(2, gap="large")
    with start:
        st.subheader(_("Start a class"))
        title = st.text_input(_("Title"), placeholder=_("e.g. Week 3: GAN stability"),
                              max_chars=80, key="class.title")
        if st.button(_("Start a class"), type="primary", key="class.start"):
            board, key = classes.start(visitor, title)
            st.session_state["class.new"] = (board.code, key)
        new = st.session_state.get("class.new")
        if new:
            code, key = new
            st.success(_("Your class is open. Give the **class link** to your students:"))
            st.code(class_link(code), language=None)
            st.warning(_("Keep the **teacher link** to yourself: it lets a browser remove cards "
                         "and close the class (this browser already can)."))
            st.code(f"{class_link(code)}&teacher={key}", language=None)
            st.link_button(_("Open the board"), class_link(code))
    with join:
        st.subheader(_("Join a class"))
        code = st.text_input(_("Class code"), max_chars=12, key="class.join",
                             help=_("the 8 characters after code= in your teacher's link"))
        if st.button(_("Open the class"), key="class.open", disabled=not code):
            st.query_params["code"] = code.strip().lower()
            st.rerun()
        mine = classes.classes_of(visitor)
        if mine:
            st.subheader(_("Classes you teach"))
            for board in mine:
                info = board.info
                count = len(board.posts())
                if info["closed"]:
                    line = _("- [{title}]({link}) — {n} cards (closed)")
                else:
                    line = _("- [{title}]({link}) — {n} cards")
                st.markdown(line.format(title=info["title"], link=class_link(board.code), n=count))


def show_board(board, visitor: str) -> None:
    info = board.info
    teacher = board.is_teacher(visitor)
    st.subheader(info["title"])
    note = st.session_state.pop("class.teacher.note", None)
    if note:
        st.info(note)
    if info["closed"]:
        st.warning(_("This class is closed: the board stays, no more runs can be posted."))
    if teacher:
        left, right = st.columns([3, 1])
        left.caption(_("You teach this class. Students join with {link}").format(
            link=class_link(board.code)))
        if not info["closed"] and right.button(_("Close the class"), key="class.close"):
            board.close(visitor)
            st.rerun()
    elif not info["closed"]:
        post_form(board, visitor)

    @st.fragment(run_every=REFRESH_S)
    def live_board():
        cards_grid(board, visitor, teacher)
    live_board()


def post_form(board, visitor: str) -> None:
    """A student's finished runs not on the board yet, and Post."""
    posted = {post["run"] for post in board.posts()}
    mine = [run for run in runs.list_runs(owner=visitor)
            if run.status.get("status") == "finished" and run.id not in posted
            and run.info.get("model") in MODELS]
    if not mine:
        st.caption(_("Train a model on any page; once a run has finished, post it here (or "
                     "with *Post to the class* under the finished run)."))
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    choice = left.selectbox(_("Your finished runs"), [run.id for run in mine], key="class.pick",
                            format_func=lambda run_id: describe(runs.get(run_id)))
    if right.button(_("Post to the class"), type="primary", key="class.post"):
        post_run(board, runs.get(choice), visitor)


def describe(run) -> str:
    model = MODELS[run.info["model"]]
    return f"{_(model.title)} · {run.id}"


def post_run(board, run, visitor: str) -> None:
    try:
        board.post(run, visitor, MODELS[run.info["model"]])
        st.toast(_("Posted to the class board."), icon=":material/check:")
    except ClassError as error:
        st.error(_("Not posted: {error}").format(error=error))


def post_button(panel, run) -> None:
    """Under a finished run on a model page: *Post to the class* for a visitor who opened a
    class link (in any tab of this browser)."""
    if not state.limits().enabled:
        return
    board = classes.joined(state.owner())
    if board is None or any(post["run"] == run.id for post in board.posts()):
        return
    if st.button(_("Post to the class ({title})").format(title=board.info["title"]),
                 key=panel.key("class", "post")):
        post_run(board, run, state.owner())


def cards_grid(board, visitor: str, teacher: bool) -> None:
    posts = board.posts()
    students = len({post["student"] for post in posts})
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    left.caption(ngettext("{n} card from {students} of at most {most} students · refreshed "
                          "every {seconds:.0f} s",
                          "{n} cards from {students} of at most {most} students · refreshed "
                          "every {seconds:.0f} s", len(posts)).format(
        n=len(posts), students=students, most=classes.MAX_STUDENTS, seconds=REFRESH_S))
    order = right.radio(_("Sort"), SORTS, horizontal=True, format_func=lambda option: _(option),
                        key="class.sort", label_visibility="collapsed")
    if not posts:
        st.info(_("No runs posted yet."))
        return
    posts = classes.sort_posts(posts, "newest" if order == SORTS[0] else "figure")
    for start in range(0, len(posts), PER_ROW):
        columns = st.columns(PER_ROW)
        for column, post in zip(columns, posts[start:start + PER_ROW]):
            with column.container(border=True):
                card(board, post, visitor, teacher)


def card(board, post: dict, visitor: str, teacher: bool) -> None:
    model_title = post["title"]          # the model's title, stored in English
    if post["student"] == visitor:
        st.markdown(_("**{title}** · you").format(title=_(model_title)))
    else:
        st.markdown(_("**{title}** · student {number}").format(title=_(model_title),
                                                              number=post["student_number"]))
    found = classes.headline(post)
    if found:
        label, value, _higher = found      # the label in English: compared here, shown via _()
        shown = f"{value:.2%}" if label == "test accuracy" else (
            _("{value:.0f} of 10").format(value=value) if label == "classes covered"
            else f"{value:.3g}")
        st.metric(_(label), shown)
        covered = post["figures"].get("classes/covered")
        if covered is not None and label != "classes covered":
            st.caption(_("classes covered: {value:.0f} of 10").format(value=covered))
    changed = post["changed"]
    st.caption(_("Changed from the preset: {changes}").format(
        changes=", ".join(f"{name} = {value}" for name, value in changed.items()))
        if changed else _("The preset's settings"))
    picture = board.samples(post)
    if picture:
        st.image(picture, width="stretch")
    st.caption(_("step {step:,} · posted {time}").format(
        step=post["step"], time=time.strftime("%H:%M", time.localtime(post["posted"]))))
    if teacher and st.button(_("Remove"), key=f"class.remove.{post['id']}"):
        board.remove(post["id"], visitor)
        st.rerun()
