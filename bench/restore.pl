#!/usr/bin/perl
# bench/restore.pl: the module side of the persister, through nginx (not a
# test): latency of a turn that restores its session from MongoDB after a
# FLUSHALL (p50/p99, one at a time and in bursts of concurrent turns), of a
# critical turn that waits for its acknowledgement (ddt_critical_sync on)
# against the same turn with critical sync off, and of an ordinary turn
# for reference.  It starts its own redis-server, MongoDB wire test server
# (or uses DDT_TEST_MONGO_URI), ddt-persister and nginx (1 worker) on free
# loopback ports, and stops them.
#
#   ./build.sh build && perl bench/restore.pl [--sessions 300] [--burst 20]
#
# The wire test server is a single-threaded Perl process: its find and
# write times are part of every figure; against a real mongod they are
# mongod's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/inc";
use Getopt::Long ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time sleep);
use DDTRedis;
use DDTPersister;

my %o = (sessions => 300, burst => 20);
Getopt::Long::GetOptions(\%o, 'sessions=i', 'burst=i') or die "bad usage\n";

my $So = "$FindBin::Bin/../build/nginx/objs/ngx_http_ddt_module.so";
die "build the module and the persister first: ./build.sh build\n"
    unless DDTPersister::available() && -f $So;
$ENV{TEST_NGINX_LOAD_MODULES} = $So;

my $Projects = "$FindBin::Bin/../t/projects";
my $Redis = DDTRedis::start_redis();
my $RP = $Redis->{port};
my $M = DDTPersister::start_mongo(db => "ddt_bench_restore_$$");
my $P = DDTPersister::start_persister(redis => $RP, mongo => $M,
                                      consumer => 'bench',
                                      log_level => 'warn');

sub nginx {
    my ($extra) = @_;
    return DDTRedis::start_nginx(http => <<"_EOC_");
    ddt_project $Projects/booking.json;
    ddt_redis 127.0.0.1:$RP;
    ddt_persister on;
    ddt_restore_timeout 3s;
    ddt_critical_wait 1s;
    $extra
    server {
        listen 127.0.0.1:\$PORT;
        location /v1/ { ddt_api; }
    }
_EOC_
}

# ---- a keep-alive HTTP/1.1 client -----------------------------------------

sub conn {
    my $port = shift;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!\n";
    return $c;
}

sub send_req {
    my ($s, $method, $path, $body) = @_;
    print {$s} "$method $path HTTP/1.1\r\nHost: x\r\n"
        . "Content-Type: application/json\r\nContent-Length: "
        . length($body) . "\r\n\r\n$body";
}

# one answer: [code, body]
sub read_res {
    my ($s) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10;
    while (time < $deadline) {
        if ($buf =~ /\A(.*?\r\n\r\n)/s) {
            my $head = $1;
            my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            if (length($buf) >= length($head) + ($len // 0)) {
                my ($code) = $head =~ /^HTTP\/\S+ (\d+)/;
                return [$code, substr($buf, length $head, $len // 0)];
            }
        }
        $sel->can_read(1) or next;
        sysread($s, $buf, 65536, length $buf) or last;
    }
    return [0, ''];
}

sub req {
    my ($s, @r) = @_;
    send_req($s, @r);
    return read_res($s);
}

sub pct {
    my ($ms, $p) = @_;
    my @s = sort { $a <=> $b } @$ms;
    return $s[int($p / 100 * $#s + 0.5)];
}

sub line {
    my ($what, $ms, $note) = @_;
    printf "%-34s %5d turns  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms%s\n",
        $what, scalar @$ms, pct($ms, 50), pct($ms, 99), pct($ms, 100),
        $note ? "  $note" : '';
}

# ---- the conversations ----------------------------------------------------

my $N = nginx('');
my $s = conn($N->{port});
my @sids = map { sprintf 'bench-rst-%05d', $_ } 1 .. $o{sessions};
my (@plain, @crit, $durable);

for my $sid (@sids) {
    my $r = req($s, 'POST', '/v1/sessions',
                qq({"project":"booking","sessionId":"$sid"}));
    die "create $sid: $r->[0]\n" unless $r->[0] == 201;
    my $t0 = time;
    $r = req($s, 'POST', "/v1/sessions/$sid/turns", '{"event":"noInput"}');
    push @plain, (time - $t0) * 1000;
    $t0 = time;
    $r = req($s, 'POST', "/v1/sessions/$sid/turns", '{"text":"Mario Rossi"}');
    push @crit, (time - $t0) * 1000;
    $durable++ if $r->[1] =~ /"durable":true/;
}

close $s;
DDTRedis::stop_nginx($N);

# the same critical turn with critical sync off
$N = nginx('ddt_critical_sync off;');
$s = conn($N->{port});
my @off;
for my $i (1 .. $o{sessions}) {
    my $sid = sprintf 'bench-off-%05d', $i;
    req($s, 'POST', '/v1/sessions', qq({"project":"booking","sessionId":"$sid"}));
    my $t0 = time;
    req($s, 'POST', "/v1/sessions/$sid/turns", '{"text":"Mario Rossi"}');
    push @off, (time - $t0) * 1000;
}
close $s;
DDTRedis::stop_nginx($N);

DDTRedis::wait_until('every session in MongoDB', sub {
    DDTPersister::count($M, 'sessions') >= 2 * $o{sessions};
}, 60);

# ---- restores ---------------------------------------------------------------

sub flush {
    DDTRedis::cmd($RP, 'FLUSHALL');
    DDTRedis::wait_until('the persister back on the flushed Redis', sub {
        DDTRedis::cmd($RP, 'EXISTS', 'ddt:persister:alive');
    }, 10);
}

$N = nginx('');
flush();

# one at a time
$s = conn($N->{port});
my (@one, $restored);
my @half = @sids[0 .. $#sids / 2];
for my $sid (@half) {
    my $t0 = time;
    my $r = req($s, 'POST', "/v1/sessions/$sid/turns", '{"event":"noInput"}');
    push @one, (time - $t0) * 1000;
    $restored++ if $r->[0] == 200 && $r->[1] =~ /"restored":true/;
}
close $s;

# bursts: `burst` turns of different sessions sent at once
flush();
my (@many, $restored_many);
my @rest = @sids[$#sids / 2 + 1 .. $#sids];
while (my @b = splice @rest, 0, $o{burst}) {
    my @c = map { conn($N->{port}) } @b;
    my $t0 = time;
    send_req($c[$_], 'POST', "/v1/sessions/$b[$_]/turns",
             '{"event":"noInput"}') for 0 .. $#b;
    for my $i (0 .. $#b) {
        my $r = read_res($c[$i]);
        push @many, (time - $t0) * 1000;
        $restored_many++ if $r->[0] == 200 && $r->[1] =~ /"restored":true/;
        close $c[$i];
    }
}

my $m = DDTPersister::metrics($P) // {};
DDTRedis::stop_nginx($N);

printf "bench/restore.pl: %d sessions, nginx 1 worker, %s\n", $o{sessions},
    $M->{real} ? "mongod $M->{uri}" : 'the MongoDB wire test server';
line('ordinary turn (noInput)', \@plain);
line('critical turn, sync on', \@crit,
     sprintf('%d/%d durable true', $durable // 0, scalar @crit));
line('critical turn, sync off', \@off, 'durable false');
line('restoring turn, one at a time', \@one,
     sprintf('%d/%d restored', $restored // 0, scalar @one));
line("restoring turn, bursts of $o{burst}", \@many,
     sprintf('%d/%d restored', $restored_many // 0, scalar @many));
printf "persister restore_seconds: %s restores, sum %.3f s\n",
    $m->{ddt_persister_restore_seconds_count} // '?',
    $m->{ddt_persister_restore_seconds_sum} // 0;
