"""A host-native service for the simulator: JSON lines on stdin and stdout.

Functions: add(a, b), whoami() (the peer it runs on), fail(message), crash().
"""
import json
import os
import sys

for line in sys.stdin:
    request = json.loads(line)
    function, args = request["function"], request["args"]
    answer = {"id": request["id"]}
    if function == "add":
        answer["result"] = args[0] + args[1]
    elif function == "whoami":
        answer["result"] = {"name": os.environ["AQUA_PEER_NAME"], "id": os.environ["AQUA_PEER_ID"], "peer_id": request["peer_id"]}
    elif function == "fail":
        answer["error"] = args[0]
    elif function == "crash":
        sys.exit(3)
    else:
        answer["error"] = "calc has no function " + function
    print(json.dumps(answer), flush=True)
