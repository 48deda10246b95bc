#!/bin/bash
set -e
cargo build --release
npm run build
