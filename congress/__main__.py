import sys

from congress.cli import main

sys.exit(main())
