import sys

from numbguard.cli import main

sys.exit(main())
