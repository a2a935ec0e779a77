import sys

from reports.html_report import main

sys.exit(main())
