from astria_sandbox.cli import main

main()
