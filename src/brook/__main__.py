import sys

from brook.broker.main import main

sys.exit(main())
