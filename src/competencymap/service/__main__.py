"""`python -m competencymap.service [--host H] [--port P] ...`: the same as `competencymap serve`."""

from competencymap.cli.serve import main

if __name__ == "__main__":
    main(prog_name="python -m competencymap.service")
