import sys

from standin.main import main

sys.exit(main(sys.argv))
