"""The turn loop both programs share, over a real socket pair, with scripted typing."""

from __future__ import annotations

import builtins
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from chat import signals
from chat.classic import terminal
from chat.classic.channel import Channel
from chat.classic.session import converse
from chat.errors import HungUp, PeerLost, Terminated
from chat.protocol import ChatConnection
from chat.status import ExitStatus

#: What the person does at a prompt: type a line, raise (Ctrl-C, Ctrl-D), or act then answer.
Answer = str | BaseException | Callable[[], str | BaseException]


class Typist:
    """Stands in for the person at the keyboard: answers each prompt from a script."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if callable(answer):
            answer = answer()
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def pair() -> Iterator[tuple[Channel, socket.socket]]:
    ours, theirs = socket.socketpair()
    theirs.settimeout(5)
    channel = Channel(ours, ChatConnection(), "the server at 127.0.0.1:65432")
    yield channel, theirs
    channel.close()
    theirs.close()


def typing(monkeypatch: pytest.MonkeyPatch, *answers: Answer) -> Typist:
    typist = Typist(*answers)
    monkeypatch.setattr(builtins, "input", typist)
    return typist


def recv_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def replying(theirs: socket.socket, *replies: bytes) -> threading.Thread:
    """The peer, in turn: after each line it receives from us, it sends the next reply."""

    def peer() -> None:
        for reply in replies:
            received = b""
            while not received.endswith(b"\n"):
                received += theirs.recv(1)
            theirs.sendall(reply)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    return thread


def as_client(channel: Channel) -> Callable[[], ExitStatus]:
    return lambda: converse(channel, me="Client", peer="Server", speak_first=True)


def test_the_client_speaks_first_and_the_server_ends_the_chat(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typist = typing(monkeypatch, "hello", "how are you?")
    peer = replying(theirs, b"hi\n", b"EXIT\n")

    assert as_client(channel)() is ExitStatus.SUCCESS

    peer.join(5)
    assert typist.prompts == ["Client: ", "Client: "]
    assert capsys.readouterr().out == "Server: hi\nServer: EXIT\nServer ended the chat.\n"


def test_the_server_waits_for_the_client_then_answers(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typist = typing(monkeypatch, "hi there")
    theirs.sendall(b"hello\n")
    replying(theirs, b"  exit \n")

    assert converse(channel, me="Server", peer="Client", speak_first=False) is ExitStatus.SUCCESS

    assert typist.prompts == ["Server: "]
    assert capsys.readouterr().out == "Client: hello\nClient:   exit \nClient ended the chat.\n"


def test_typing_exit_in_any_case_ends_the_chat_and_tells_the_peer(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typing(monkeypatch, " ExIt ")

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert capsys.readouterr().out == "Client ended the chat.\n"
    channel.close()
    assert recv_all(theirs) == b" ExIt \n"


def test_ctrl_d_ends_the_chat_cleanly_and_the_peer_receives_exit(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typing(monkeypatch, EOFError())

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert capsys.readouterr().out == "\nClient ended the chat.\n"
    channel.close()
    assert recv_all(theirs) == b"exit\n"


@pytest.mark.parametrize(
    ("interruption", "status"),
    [
        (KeyboardInterrupt(), ExitStatus.INTERRUPTED),
        (Terminated("terminated by SIGTERM"), ExitStatus.TERMINATED),
        (HungUp("hung up by SIGHUP"), ExitStatus.HANGUP),
    ],
)
def test_ctrl_c_sigterm_or_sighup_ends_the_chat_and_the_peer_receives_exit(
    pair: tuple[Channel, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    interruption: BaseException,
    status: ExitStatus,
) -> None:
    channel, theirs = pair
    typing(monkeypatch, interruption)

    assert as_client(channel)() is status

    assert capsys.readouterr().out == "\nClient ended the chat.\n"
    channel.close()
    assert recv_all(theirs) == b"exit\n"


def test_ctrl_c_after_the_peer_vanished_still_ends_quietly(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    # Where the prompt cannot watch the peer (Windows), the peer vanishes unseen while our
    # person types, and Ctrl-C comes: our `exit` cannot be sent, and that is no error.
    monkeypatch.setattr(terminal, "can_watch", lambda: False)

    def vanish_then_interrupt() -> BaseException:
        theirs.close()
        return KeyboardInterrupt()

    typing(monkeypatch, vanish_then_interrupt)

    assert as_client(channel)() is ExitStatus.INTERRUPTED

    assert capsys.readouterr().out == "\nClient ended the chat.\n"


def test_a_peer_that_closes_without_exit_is_peer_lost_with_one_line(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, theirs = pair
    typing(monkeypatch, "hello")
    theirs.shutdown(socket.SHUT_WR)  # it reads what we send, then stops without a word

    with pytest.raises(PeerLost) as caught:
        as_client(channel)()

    assert str(caught.value) == (
        "connection lost: the server at 127.0.0.1:65432 closed the connection without saying 'exit'"
    )


def test_a_classic_peer_s_last_exit_without_newline_still_ends_the_chat(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typing(monkeypatch, "bye")
    theirs.sendall(b"exit")
    theirs.shutdown(socket.SHUT_WR)  # the classic program closes right after its "exit"

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert capsys.readouterr().out == "Server: exit\nServer ended the chat.\n"


def test_escape_sequences_from_the_peer_are_shown_harmlessly(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typing(monkeypatch, "hi", "what was that?")
    theirs.sendall(b"\x1b[2J\x1b]0;owned\x07\nexit\n")

    as_client(channel)()

    out = capsys.readouterr().out
    assert "Server: \\x1b[2J\\x1b]0;owned\\x07\n" in out
    assert "\x1b" not in out


def test_an_oversize_message_is_one_line_and_takes_the_peer_s_turn(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    channel.conn = ChatConnection(max_message_bytes=2000)
    typist = typing(monkeypatch, "hi", "exit")
    theirs.sendall(b"y" * 5000 + b"\n")

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert typist.prompts == ["Client: ", "Client: "]
    assert capsys.readouterr().out == (
        "Server: [message over the 2,000-byte limit, not shown; raise --max-message-bytes to receive it]\n"
        "Client ended the chat.\n"
    )


@pytest.mark.parametrize(
    ("typed", "notice"),
    [
        ("x" * 11, "[message of 11 bytes is over the 10-byte limit; not sent, type it again]"),
        (
            "pasted\rbreak",
            "[a chat message is one line: it cannot contain a line break; not sent, type it again]",
        ),
    ],
)
def test_a_message_that_cannot_be_sent_is_explained_and_the_turn_stays_ours(
    pair: tuple[Channel, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    typed: str,
    notice: str,
) -> None:
    channel, theirs = pair
    channel.conn = ChatConnection(max_message_bytes=10)
    typist = typing(monkeypatch, typed, "short", "exit")
    theirs.sendall(b"ok\n")

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert typist.prompts == ["Client: "] * 3
    assert capsys.readouterr().out == f"{notice}\nServer: ok\nClient ended the chat.\n"
    channel.close()
    assert recv_all(theirs) == b"short\nexit\n"


# -- the peer ends the chat while our person is at the prompt (issue 14, item 3) --------------


def test_an_exit_already_here_at_our_turn_ends_the_chat_without_a_prompt(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    channel, theirs = pair
    typist = typing(monkeypatch, "never asked")
    theirs.sendall(b"hi\nbye now\nexit\n")  # out of turn: the server said all and left

    assert as_client(channel)() is ExitStatus.SUCCESS

    assert typist.prompts == []
    assert capsys.readouterr().out == "Server: hi\nServer: bye now\nServer: exit\nServer ended the chat.\n"


def test_a_close_already_here_at_our_turn_is_peer_lost_without_a_prompt(
    pair: tuple[Channel, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, theirs = pair
    typist = typing(monkeypatch, "never asked")
    theirs.close()

    with pytest.raises(PeerLost, match="closed the connection without saying 'exit'"):
        as_client(channel)()

    assert typist.prompts == []


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here (Windows)")
def test_a_sighup_during_the_goodbye_after_ctrl_d_waits_for_it_then_its_status_wins(
    pair: tuple[Channel, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A closing terminal window sends the end of input and SIGHUP together: the second must
    # not cut the first's goodbye in two (nor say it twice).
    channel, theirs = pair
    typing(monkeypatch, EOFError())
    send_exit = channel.end

    def hung_up_meanwhile(text: str) -> None:
        signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
        send_exit(text)

    monkeypatch.setattr(channel, "end", hung_up_meanwhile)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    signals.install()
    try:
        with pytest.raises(HungUp):
            as_client(channel)()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    assert capsys.readouterr().out == "\nClient ended the chat.\n"
    channel.close()
    assert recv_all(theirs) == b"exit\n"
