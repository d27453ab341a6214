"""CLI errors carry their exit code; ``main_wrapper`` is the only place that exits.

Exit codes: 0 success, 1 findings/failure the user asked about (errors in code, not running),
2 usage or configuration error, 3 no daemon answered / daemon unhealthy, 70 internal error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console

from rustg.daemon.errors import ConfigError, DaemonError, WorkspaceError
from rustg.protocol import ProtocolError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_DAEMON = 3
EXIT_INTERNAL = 70


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NoDaemon(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_NO_DAEMON)


def main_wrapper(program: str, run: Callable[[], int]) -> None:
    err = Console(stderr=True, highlight=False)
    try:
        code = run()
    except KeyboardInterrupt:
        code = 130
    except CliError as exc:
        err.print(f"[bold red]{program}:[/] {exc}")
        code = exc.exit_code
    except (ConfigError, WorkspaceError) as exc:
        err.print(f"[bold red]{program}:[/] {exc}")
        code = EXIT_USAGE
    except (DaemonError, ProtocolError) as exc:
        err.print(f"[bold red]{program}:[/] {exc}")
        code = EXIT_FAILURE
    sys.exit(code)
