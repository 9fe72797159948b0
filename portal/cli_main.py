"""`python -m portal.cli_main`, and the `manabi` command's entry point.

While a server serves the database, the command is handed to it before the whole command
line (every module) is loaded here: that keeps a handed command's start short.
"""

import sys


def main() -> None:
    from portal import command_socket

    argv = sys.argv[1:]
    served = command_socket.served_socket(argv)
    if served is not None:
        sys.exit(command_socket.hand_over(served, argv))
    from portal.cli import main as run_here

    run_here()


if __name__ == "__main__":
    main()
