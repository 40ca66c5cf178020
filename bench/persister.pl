#!/usr/bin/perl
# bench/persister.pl: ddt-persister's benchmark (not a test): drain rate of
# a preloaded snapshot stream into MongoDB with coalescing on and off,
# restore latency (XADD ddt:restore -> PUBLISH on ddt:restored) p50/p99,
# and critical acknowledgement latency (XADD of a critical snapshot ->
# PUBLISH on ddt:durable) p50/p99.
# It starts its own redis-server, MongoDB wire test server (or uses
# DDT_TEST_MONGO_URI) and persister on free loopback ports, and stops them.
#
#   ./build.sh build && perl bench/persister.pl [--sessions 500]
#       [--vers 20] [--restores 300] [--batch-max 500]
#
# What it measures is the persister plus the test server: the wire test
# server is a single-threaded Perl process, so the drain rate is a floor;
# against a real mongod it is the persister's own.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/inc";
use Getopt::Long ();
use Time::HiRes qw(time sleep);
use DDTRedis;
use DDTPersister;

my %o = (sessions => 100, vers => 100, restores => 300, 'batch-max' => 500);
Getopt::Long::GetOptions(\%o, 'sessions=i', 'vers=i', 'restores=i',
                         'batch-max=i') or die "bad usage\n";

die "build/persister is not built: ./build.sh build\n"
    unless DDTPersister::available();

my $Redis = DDTRedis::start_redis();
my $RP = $Redis->{port};
my $total = $o{sessions} * $o{vers};

# the stream, preloaded through redis-cli --pipe
sub preload {
    my $f = "$DDTRedis::Dir/preload.resp";
    open my $out, '>', $f or die "$f: $!";
    for my $ver (1 .. $o{vers}) {
        for my $s (1 .. $o{sessions}) {
            my $sid = sprintf 'bench-sess-%06d', $s;
            my @a = ('XADD', 'ddt:{0}:snapshots', '*', 'sid', $sid,
                     'ver', $ver, 'critical', ($ver % 5 == 0 ? 1 : 0),
                     'state', DDTPersister::state_json($sid, $ver,
                        memory => { name => 'Mario Rossi', ver => $ver,
                                    dob => { day => 12, month => 3,
                                             year => 1980 } }),
                     'turn', DDTPersister::turn_json($ver,
                        at => int(time * 1000) - 1000));
            print {$out} '*' . @a . "\r\n",
                map { '$' . length($_) . "\r\n$_\r\n" } @a;
        }
    }
    close $out;
    system("redis-cli -p $RP --pipe < $f > /dev/null") == 0
        or die "redis-cli --pipe failed\n";
}

# user + system CPU seconds of a process
sub cpu {
    my $pid = shift;
    open my $f, '<', "/proc/$pid/stat" or return 0;
    my @f = split ' ', (<$f> =~ s/^.*\) //r);
    return ($f[11] + $f[12]) / 100;
}

sub drain {
    my ($coalesce) = @_;
    my $m = DDTPersister::start_mongo(db => "ddt_bench_${coalesce}_$$");
    DDTRedis::cmd($RP, 'DEL', 'ddt:{0}:snapshots');
    preload();
    my $len = DDTRedis::cmd($RP, 'XLEN', 'ddt:{0}:snapshots');
    my $t0 = time;
    my $p = DDTPersister::start_persister(
        redis => $RP, mongo => $m, consumer => "bench-$coalesce",
        args => { '--coalesce' => $coalesce, '--batch-max' => $o{'batch-max'},
                  '--log-level' => $ENV{BENCH_LOG} // 'warn' });
    DDTRedis::wait_until('drained', sub {
        my $mt = DDTPersister::metrics($p) or return 0;
        return ($mt->{ddt_persister_entries_written_total} // 0) >= $total;
    }, 600);
    my $dt = time - $t0;
    my $mt = DDTPersister::metrics($p);
    my $turns = DDTPersister::count($m, 'turns');
    my $cpu = cpu($p->{pid}) + 0;
    my $srv = $m->{pid} ? cpu($m->{pid}) : 0;
    printf "drain, coalesce %-3s: %d entries (%d sessions x %d vers) in "
           . "%.2f s = %.0f entries/s; %d batches, %d coalesced; turns in "
           . "MongoDB: %d; CPU: persister %.2f s, test server %.2f s\n",
           $coalesce, $len, $o{sessions}, $o{vers}, $dt,
           $len / $dt, $mt->{ddt_persister_batches_total},
           $mt->{ddt_persister_entries_coalesced_total}, $turns, $cpu, $srv;
    print DDTPersister::log_text($p) if $ENV{BENCH_LOG};
    return ($p, $m);
}

my ($p, $m);
($p, $m) = drain('off');
DDTPersister::stop_persister($p);
($p, $m) = drain('on');

# restore latency: sequential requests, each timed to its PUBLISH
my $sub = DDTPersister::subscribe($RP, 'ddt:restored');
my @lat;
for my $i (1 .. $o{restores}) {
    my $sid = sprintf 'bench-sess-%06d', 1 + ($i % $o{sessions});
    DDTRedis::cmd($RP, 'DEL', "ddt:{0}:s:$sid");
    my $t0 = time;
    DDTRedis::cmd($RP, 'XADD', 'ddt:restore', '*', 'sid', $sid,
                  'reply', "n$i");
    my $msg = DDTPersister::next_message($sub, 5);
    die "no reply to restore $i\n" unless $msg && $msg->[1] eq "n$i:found";
    push @lat, (time - $t0) * 1000;
}
@lat = sort { $a <=> $b } @lat;
printf "restore: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    scalar @lat, $lat[int(@lat * 0.50)], $lat[int(@lat * 0.99)], $lat[-1];
close $sub;

# critical acknowledgement: XADD of a critical snapshot -> PUBLISH on
# ddt:durable (what a turn with critical sync waits for)
$sub = DDTPersister::subscribe($RP, 'ddt:durable');
@lat = ();
for my $i (1 .. $o{restores}) {
    my $sid = sprintf 'bench-crit-%06d', $i;
    my $t0 = time;
    DDTPersister::xadd($RP, $sid, 1, critical => 1);
    my $msg = DDTPersister::next_message($sub, 5);
    die "no durable mark for $sid\n" unless $msg && $msg->[1] eq "$sid:1";
    push @lat, (time - $t0) * 1000;
}
@lat = sort { $a <=> $b } @lat;
printf "critical ack: %d snapshots, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    scalar @lat, $lat[int(@lat * 0.50)], $lat[int(@lat * 0.99)], $lat[-1];
DDTPersister::stop_persister($p);
