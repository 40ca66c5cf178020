#!/usr/bin/perl
# bench/persister_lag.pl: stream lag while the module runs at its maximum
# turn rate (not a test).  Starts redis-server, the MongoDB wire test server
# (or uses DDT_TEST_MONGO_URI), ddt-persister and nginx with the module in
# Redis mode on free loopback ports; runs wrk's turn loop (bench/turn.lua)
# for BENCH_SECONDS; samples the persister's backlog (pending + unread
# entries) every 200 ms; then times the drain of what is left.  Prints the
# turn rate, the write rate, the largest backlog and the drain time.
#
#   ./build.sh build && perl bench/persister_lag.pl
#   env: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#        BENCH_SESSIONS (1024), TEST_NGINX_BINARY
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/inc";
use POSIX ();
use Time::HiRes qw(time sleep);
use DDTRedis;
use DDTPersister;

my $secs = $ENV{BENCH_SECONDS} // 10;
my $threads = $ENV{BENCH_THREADS} // 2;
my $conns = $ENV{BENCH_CONNECTIONS} // 32;
my $sessions = $ENV{BENCH_SESSIONS} // 1024;
my $so = "$FindBin::Bin/../build/nginx/objs/ngx_http_ddt_module.so";

for (['wrk', 'wrk is not installed'], ['redis-server', 'no redis-server']) {
    system("command -v $_->[0] >/dev/null") == 0 or die "bench: $_->[1]\n";
}
die "bench: build first (./build.sh build)\n"
    unless -f $so && DDTPersister::available();
$ENV{TEST_NGINX_LOAD_MODULES} = $so;

my $Redis = DDTRedis::start_redis();
my $RP = $Redis->{port};
my $M = DDTPersister::start_mongo(db => "ddt_bench_lag_$$");
my $P = DDTPersister::start_persister(redis => $RP, mongo => $M,
                                      consumer => 'lag',
                                      args => { '--log-level' => 'warn' });
my $N = DDTRedis::start_nginx(http => <<"_EOC_");
    ddt_zone_size 256m;
    ddt_project $FindBin::Bin/projects/bench.json;
    ddt_redis 127.0.0.1:$RP;
    server {
        listen 127.0.0.1:\$PORT backlog=4096;
        keepalive_requests 1000000;
        location /v1/ { ddt_api; }
    }
_EOC_

sub backlog {
    my $m = DDTPersister::metrics($P) or return (0, 0);
    return (($m->{ddt_persister_pending} // 0) + ($m->{ddt_persister_lag} // 0),
            $m->{ddt_persister_entries_written_total} // 0);
}

my $out = "$DDTRedis::Dir/wrk.out";
my $w0 = (backlog())[1];
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    $ENV{BENCH_DIR} = $FindBin::Bin;
    $ENV{BENCH_SESSIONS} = $sessions;
    $ENV{BENCH_THREADS} = $threads;
    open STDOUT, '>', $out;
    open STDERR, '>&', \*STDOUT;
    exec 'wrk', "-t$threads", "-c$conns", "-d${secs}s", '--latency',
         '-s', "$FindBin::Bin/turn.lua", "http://127.0.0.1:$N->{port}"
        or POSIX::_exit(127);
}
my $t0 = time;
my $max = 0;
while (waitpid($pid, POSIX::WNOHANG()) == 0) {
    my ($b) = backlog();
    $max = $b if $b > $max;
    sleep 0.2;
}
my $t1 = time;
my $xlen = 0;
$xlen += DDTRedis::cmd($RP, 'XLEN', 'ddt:{0}:snapshots');
my ($left, $w1) = backlog();
DDTRedis::wait_until('drained', sub { (backlog())[0] == 0 }, 300);
my $t2 = time;
my $w2 = (backlog())[1];
my %xi = @{ DDTRedis::cmd($RP, 'XINFO', 'STREAM', 'ddt:{0}:snapshots') };

open my $f, '<', $out or die "$out: $!";
my $wrk = do { local $/; <$f> };
my ($rps) = $wrk =~ /Requests\/sec:\s+([\d.]+)/;
my ($p99) = $wrk =~ /99%\s+(\S+)/;
my ($non2xx) = $wrk =~ /Non-2xx or 3xx responses:\s+(\d+)/;
printf "turns through nginx (Redis mode): %.0f requests/s for %.1f s, p99 %s,"
       . " non-2xx %d\n", $rps // 0, $t1 - $t0, $p99 // '?', $non2xx // 0;
printf "stream: %d entries added (%.0f/s)\n", $xi{'entries-added'},
    $xi{'entries-added'} / ($t1 - $t0);
printf "persister: %.0f entries/s written while loaded; largest backlog "
       . "%d entries; %d left at the end, drained in %.2f s; %d written in "
       . "all, of %d stream entries\n", ($w1 - $w0) / ($t1 - $t0), $max,
       $left, $t2 - $t1, $w2 - $w0, $xi{'entries-added'};
DDTRedis::stop_nginx($N);
DDTPersister::stop_persister($P);
