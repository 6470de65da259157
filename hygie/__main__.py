from hygie.cli import main

main()
