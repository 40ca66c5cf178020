-- bench/return200.lua: the baseline, a plain GET of `return 200` on the
-- same nginx; only adds the result line run.sh parses.
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")
done = common.done("return200")
