import sys

from modelworks.cli import main

sys.exit(main())
