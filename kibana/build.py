"""Build the Kibana bundle: `python kibana/build.py` writes kibana/objects/ and kibana/logtrace.ndjson.

`--check` only reports files that are out of date (exit 1). The definitions live in pipeline/kibana/.
"""

import sys

from pipeline.kibana.build import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
