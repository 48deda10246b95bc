import shutil
shutil.rmtree("/srv/data")
