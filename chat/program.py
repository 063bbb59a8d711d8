"""The programs' edge: shared options, and the one place where errors become exit statuses.

Every program's ``main`` raises the package's errors (:mod:`chat.errors`); :func:`run`
turns each into one stderr line and its :class:`~chat.status.ExitStatus`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from chat import __version__, signals
from chat.display import say, settle_output
from chat.errors import ChatError, Terminated, UsageError
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import CLASSIC_STATUSES, ExitStatus, status_help

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import ssl

DEFAULT_HOST = "127.0.0.1"  # the classic programs' address: loopback unless told otherwise
DEFAULT_PORT = 65432  # the classic programs' port

ENV_HELP = "environment: CHAT_HOST and CHAT_PORT set the defaults of --host and --port."


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 meaning 'any free port'."""
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range (0-65535)")
    return port


def positive_bytes(text: str) -> int:
    """argparse type: a byte count of at least 1."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


def env_port() -> int:
    """The default port: CHAT_PORT when set and valid, else the classic 65432."""
    raw = os.environ.get("CHAT_PORT")
    if raw is None or raw == "":
        return DEFAULT_PORT
    try:
        return port_number(raw)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(
            f"environment variable CHAT_PORT={raw!r} is invalid: {exc}; fix or unset it"
        ) from None


def add_address_options(parser: argparse.ArgumentParser, *, listening: bool) -> None:
    """Add --host and --port with their environment defaults (CHAT_HOST, CHAT_PORT)."""
    host = os.environ.get("CHAT_HOST") or DEFAULT_HOST
    what = "address to listen on" if listening else "server to connect to"
    parser.add_argument(
        "--host",
        default=host,
        help=f"{what}: a name, an IPv4 or an IPv6 address such as ::1 (default: %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"TCP port{'; 0 picks any free port and the listening line shows it' if listening else ''}"
        f" (default: {DEFAULT_PORT}, or CHAT_PORT)",
    )


def add_tls_server_options(parser: argparse.ArgumentParser) -> None:
    """Add --tls-cert and --tls-key: serve over TLS (plain stays the default)."""
    group = parser.add_argument_group("serving over TLS (off by default: the plain classic protocol)")
    group.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="serve over TLS with this PEM certificate (its chain after it); needs --tls-key",
    )
    group.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert (unencrypted)")


def add_tls_client_options(parser: argparse.ArgumentParser) -> None:
    """Add --tls and --tls-ca: connect over TLS (plain stays the default)."""
    group = parser.add_argument_group("connecting over TLS (off by default: the plain classic protocol)")
    group.add_argument(
        "--tls",
        action="store_true",
        help="connect over TLS; the server's certificate must be trusted and hold the --host name",
    )
    group.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="with --tls: trust the CA certificates in this PEM file (default: the system trust store)",
    )


def server_tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The serving TLS context of --tls-cert/--tls-key, or None for plain; UsageError when unusable."""
    cert, key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--tls-cert and --tls-key go together: give both to serve over TLS")
    from chat import tls  # ssl is imported only when TLS is asked for (start-up time)

    return tls.server_context(cert, key)


def client_tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The connecting TLS context of --tls/--tls-ca, or None for plain; UsageError when unusable."""
    ca = getattr(args, "tls_ca", None)
    if not getattr(args, "tls", False):
        if ca is not None:
            raise UsageError("--tls-ca goes with --tls: add --tls to connect over TLS")
        return None
    from chat import tls

    return tls.client_context(ca)


def add_common_options(
    parser: argparse.ArgumentParser, version_action: type[argparse.Action] | str = "version"
) -> None:
    """Add the options every program has: message size limit, version and shell completion.

    *version_action* may add to the version line (it gets ``version=``, as argparse's own does).
    """
    parser.add_argument(
        "--max-message-bytes",
        type=positive_bytes,
        default=MAX_MESSAGE_BYTES,
        metavar="N",
        help="largest message accepted from the peer, in bytes; longer ones are reported "
        "and discarded (default: %(default)s, 1 MiB)",
    )
    parser.add_argument("--version", action=version_action, version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--print-completion",
        action=PrintCompletion,
        choices=COMPLETION_SHELLS,
        help="print the completion script for a shell (%(choices)s) and exit",
    )


COMPLETION_SHELLS = ("bash", "zsh", "tcsh", "fish", "powershell")  # shtab's SUPPORTED_SHELLS


class PrintCompletion(argparse.Action):
    """``--print-completion SHELL``: the completion script, generated by shtab from this parser.

    Made from the parser as it stands when the option is used, so a completion script always
    offers exactly the program's options; installing it is one command (docs/classic.md).
    shtab is imported only here: it costs every program's start-up about 30 ms otherwise.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        import shtab

        print(shtab.complete(parser, shell=str(values)))
        parser.exit(0)


def epilog(statuses: Sequence[ExitStatus] = CLASSIC_STATUSES) -> str:
    """The help text's last lines: the environment, and the exit statuses made from :mod:`chat.status`."""
    import textwrap

    return ENV_HELP + "\n" + "\n".join(textwrap.wrap(status_help(statuses), width=100))


def new_parser(
    prog: str, description: str, statuses: Sequence[ExitStatus] = CLASSIC_STATUSES
) -> argparse.ArgumentParser:
    """An argparse parser with the package's epilog (environment and exit statuses)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog(statuses),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def resolve_port(args: argparse.Namespace) -> int:
    """--port if given, else CHAT_PORT, else 65432."""
    return int(args.port) if args.port is not None else env_port()


def run(prog: str, main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run *main* and turn every expected error into one stderr line and an exit status.

    SIGTERM and SIGHUP raise their errors from wherever the program is (:mod:`chat.signals`).
    Output that can no longer be written (a closed terminal) is dropped, so that Python's
    own flush at exit cannot fail and turn the status into 120.
    """
    signals.install()
    try:
        return _run(prog, main, argv)
    finally:
        settle_output()


def _run(prog: str, main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    try:
        return main(argv)
    except ChatError as exc:
        if isinstance(exc, Terminated):
            return int(exc.status)
        say(f"{prog}: {exc}", sys.stderr)
        return int(exc.status)
    except KeyboardInterrupt:
        say("", sys.stderr)
        return int(ExitStatus.INTERRUPTED)
    except Exception as exc:  # a bug: still one line, unless the user asked for the traceback
        if os.environ.get("CHAT_DEBUG"):
            raise
        say(
            f"{prog}: internal error: {type(exc).__name__}: {exc} (set CHAT_DEBUG=1 for a traceback, "
            "and please report it)",
            sys.stderr,
        )
        return int(ExitStatus.ERROR)
