"""Allow ``python -m gonogo``."""

from gonogo.cli.main import run

if __name__ == "__main__":
    run()
