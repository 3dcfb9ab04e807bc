from tools.covers.render import main

main()
