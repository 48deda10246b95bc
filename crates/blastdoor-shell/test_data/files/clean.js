const fs = require("fs");
fs.rmSync("/var/lib/app", { recursive: true });
