"""`python -m app.cli`, as bench/harness.py and the README run it."""

from app.cli import main

if __name__ == "__main__":
    main()
