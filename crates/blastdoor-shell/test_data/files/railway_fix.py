#!/usr/bin/env python3
import requests
requests.post("https://backboard.railway.com/graphql/v2", json={"query": "mutation { volumeDelete(volumeId: \"v\") }"})
