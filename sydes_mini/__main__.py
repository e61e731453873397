import sys

from sydes_mini.cli import main

sys.exit(main())
