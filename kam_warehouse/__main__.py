"""`python -m kam_warehouse` == `kam`."""

from kam_warehouse.cli import app

app(prog_name="kam")
