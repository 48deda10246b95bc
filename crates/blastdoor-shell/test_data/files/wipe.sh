#!/bin/sh
systemctl stop postgresql
rm -rf /var/lib/postgresql
