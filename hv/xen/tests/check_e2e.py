import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(len(recs))
for r in recs[:40]: print(json.dumps(r)[:400])
