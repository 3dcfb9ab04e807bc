import sys

from chaos.drills import main

sys.exit(main(sys.argv[1:]))
