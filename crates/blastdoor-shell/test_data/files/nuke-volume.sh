#!/usr/bin/env bash
# clean up the old volume
curl -s -X POST https://backboard.railway.com/graphql/v2 \
  -H "Authorization: Bearer $RAILWAY_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"query":"mutation { volumeDelete(volumeId: \"3f1c\") }"}'
