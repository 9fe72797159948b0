"""`python -m portal.cli_main`: the `manabi` command without the installed script."""

from portal.cli import main

if __name__ == "__main__":
    main()
