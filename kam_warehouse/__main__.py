"""`python -m kam_warehouse` == `kam`."""

from kam_warehouse.process_exit import main

main()
