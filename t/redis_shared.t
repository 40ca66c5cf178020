# t/redis_shared.t: one Redis, many nginx workers and instances (issue 5):
# a conversation whose turns alternate between two workers, then between
# two nginx instances (the suite's and a second one this file starts),
# never loses a version; turnId replays answer on the other instance; a
# burst of racing turns over both instances commits every version once.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use IO::Socket::INET;
use IO::Select;

no_shuffle();
master_on();
workers(2);

our $Redis = DDTRedis::start_redis();
$ENV{TEST_NGINX_REDIS_PORT} = $Redis->{port};
our $RP = $Redis->{port};

$ENV{TEST_NGINX_REUSEPORT_PORT} ||= DDTRedis::free_port();

our $Other = DDTRedis::start_nginx(http => <<"_EOC_");
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $ENV{TEST_NGINX_DDT_PROJECTS}/echo.json;
    ddt_redis 127.0.0.1:$RP;
    server {
        listen 127.0.0.1:\$PORT;
        location /v1/ { ddt_api; }
    }
_EOC_

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_REUSEPORT_PORT reuseport;
        location /v1/ {
            ddt_api;
            add_header X-Worker $pid always;
        }
    }
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 20,
);

sub spread {
    my ($method, $path, $body) = @_;
    my $r = DDTRedis::http_to($ENV{TEST_NGINX_REUSEPORT_PORT}, $method, $path, $body);
    ($r->{worker}) = $r->{head} =~ /^X-Worker:\s*(\d+)/mi;
    return $r;
}

sub other { DDTRedis::http_to($main::Other->{port}, @_) }

run_tests();

__DATA__

=== TEST 1: turns on one session alternate between two workers and never lose a version
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"shared-wk-00001\"}",
"GET /v1/sessions/shared-wk-00001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my (%workers, @bad);
        my $expect = 1;
        for my $i (1 .. 30) {
            my $t = main::spread('POST', '/v1/sessions/shared-wk-00001/turns',
                                 "{\"text\": \"n$i\"}");
            my $j = DDTTest::decode($t->{body}) || {};
            $expect++;
            push @bad, "turn $i: $t->{code} v" . ($j->{version} // '?')
                unless $t->{code} == 200 && ($j->{version} // 0) == $expect
                       && ($j->{messages}[0]{text} // '') eq "You said n$i.";
            $workers{$t->{worker} // '?'}++;
        }
        Test::More::is("@bad", "", "$name - every turn saw the last version");
        Test::More::cmp_ok(scalar(grep { /^\d+$/ } keys %workers), '==', 2,
                           "$name - both workers ran turns")
            or Test::More::diag(CORE::join ' ', %workers);
    },
}
--- json eval
[ undef, { version => 31 } ]
--- no_error_log
[error]
[alert]



=== TEST 2: one conversation across two nginx instances sharing one Redis; replays answer on either
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"shared-in-00001\"}",
"GET /v1/sessions/shared-in-00001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my @bad;
        my $expect = 1;
        for my $i (1 .. 20) {
            my $body = "{\"text\": \"i$i\", \"turnId\": \"tid-$i\"}";
            my $t = ($i % 2) ? main::other('POST', '/v1/sessions/shared-in-00001/turns', $body)
                             : DDTTest::http('POST', '/v1/sessions/shared-in-00001/turns', $body);
            my $j = DDTTest::decode($t->{body}) || {};
            $expect++;
            push @bad, "turn $i: $t->{code} v" . ($j->{version} // '?')
                unless $t->{code} == 200 && ($j->{version} // 0) == $expect;
            # the same turnId on the other instance: the stored response
            my $r = ($i % 2) ? DDTTest::http('POST', '/v1/sessions/shared-in-00001/turns', $body)
                             : main::other('POST', '/v1/sessions/shared-in-00001/turns', $body);
            my $rj = DDTTest::decode($r->{body}) || {};
            push @bad, "replay $i: $r->{code} v" . ($rj->{version} // '?')
                unless $r->{code} == 200 && ($rj->{version} // 0) == $expect
                       && ($rj->{messages}[0]{text} // '') eq "You said i$i.";
        }
        Test::More::is("@bad", "", "$name - every turn and replay agreed on both instances");
        my $g = main::other('GET', '/v1/sessions/shared-in-00001');
        my $gj = DDTTest::decode($g->{body}) || {};
        Test::More::is($gj->{version}, 21, "$name - the other instance reads version 21");
        my $e = [ grep { $_->{sid} eq 'shared-in-00001' }
                  @{ DDTRedis::xrange($main::RP, DDTRedis::key('snapshots', 'x')) } ];
        Test::More::is(CORE::join(',', map { $_->{ver} } @$e), CORE::join(',', 1 .. 21),
                       "$name - one snapshot per version, in order");
    },
}
--- json eval
[ undef, { version => 21 } ]
--- no_error_log
[error]
[alert]



=== TEST 3: racing turns over both instances: each version is committed exactly once, losers are 409
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"shared-race-001\"}",
"GET /v1/sessions/shared-race-001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my ($ok, $conflict, $other) = (0, 0, 0);
        for my $round (1 .. 10) {
            my @raw = map {
                DDTTest::raw_request('POST', '/v1/sessions/shared-race-001/turns',
                                     "{\"text\": \"r$round-$_\"}")
            } 1 .. 4;
            # two on this instance, two on the other, all in flight together
            my @socks;
            for my $k (0 .. 3) {
                my $port = $k < 2 ? DDTTest::port() : $main::Other->{port};
                my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
                    or die $!;
                push @socks, $s;
            }
            print {$socks[$_]} $raw[$_] for 0 .. 3;
            for my $s (@socks) {
                local $/;
                my $buf = <$s>;
                my $r = DDTTest::parse($buf // '');
                if ($r->{code} == 200) { $ok++ }
                elsif ($r->{code} == 409) { $conflict++ }
                else { $other++ }
            }
        }
        Test::More::is($other, 0, "$name - only 200 or 409");
        Test::More::ok($ok >= 10, "$name - at least one winner per round ($ok wins, $conflict conflicts)");
        my %h = @{ DDTRedis::cmd($main::RP, 'HGETALL', DDTRedis::key('s', 'shared-race-001')) };
        Test::More::is($h{ver}, 1 + $ok, "$name - the version counts the wins exactly");
        my @v = map { $_->{ver} } grep { $_->{sid} eq 'shared-race-001' }
                @{ DDTRedis::xrange($main::RP, DDTRedis::key('snapshots', 'x')) };
        Test::More::is(CORE::join(',', @v), CORE::join(',', 1 .. 1 + $ok),
                       "$name - one snapshot per committed version, none for a 409");
    },
}
--- no_error_log
[alert]



=== TEST 4: nginx -s reload (HUP): old workers close their Redis connections and exit, conversations go on
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"shared-hup-0001\"}",
"POST /v1/sessions/shared-hup-0001/turns\n{\"text\": \"after\"}",
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { version => 3, 'messages.0.text' => 'You said after.' } ]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my $t = main::spread('POST', '/v1/sessions/shared-hup-0001/turns', '{"text": "before"}');
        Test::More::is($t->{code}, 200, "$name - a turn before the reload");
        my $pidfile = Test::Nginx::Socket::server_root() . "/logs/nginx.pid";
        open my $f, '<', $pidfile or die "$pidfile: $!";
        CORE::chomp(my $pid = <$f>);
        my %old = map { (main::spread('GET', '/v1/health')->{worker} // '') => 1 } 1 .. 10;
        my $clients0 = DDTRedis::cmd($main::RP, 'INFO', 'clients') =~ /connected_clients:(\d+)/ ? $1 : 0;
        kill 'HUP', $pid;
        my $t0 = Time::HiRes::time();
        my $gone = 0;
        while (Time::HiRes::time() - $t0 < 10) {
            Time::HiRes::sleep(0.1);
            $gone = !grep { $_ =~ /^\d+$/ && kill(0, $_) } keys %old;
            last if $gone;
        }
        Test::More::ok($gone, "$name - the old workers exited ("
                       . sprintf("%.2f", Time::HiRes::time() - $t0) . " s)");
        my $clients1 = DDTRedis::cmd($main::RP, 'INFO', 'clients') =~ /connected_clients:(\d+)/ ? $1 : 0;
        Test::More::ok($clients1 <= $clients0, "$name - their Redis connections are closed ($clients0 -> $clients1)");
    },
}
--- no_error_log
[alert]
[error]



=== TEST 5: a turn waiting on Redis when the worker is reloaded still gets its answer
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"shared-hup-0002\"}",
"GET /v1/sessions/shared-hup-0002",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my $pidfile = Test::Nginx::Socket::server_root() . "/logs/nginx.pid";
        open my $f, '<', $pidfile or die "$pidfile: $!";
        CORE::chomp(my $pid = <$f>);
        # the turn's write waits in Redis while the worker is told to go
        DDTRedis::cmd($main::RP, 'CLIENT', 'PAUSE', '600', 'WRITE');
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => DDTTest::port())
            or die $!;
        print {$s} DDTTest::raw_request('POST', '/v1/sessions/shared-hup-0002/turns',
                                        '{"text": "during the reload"}');
        Time::HiRes::sleep(0.3);
        kill 'HUP', $pid;
        my $buf = '';
        my $sel = IO::Select->new($s);
        my $deadline = Time::HiRes::time() + 10;
        while (Time::HiRes::time() < $deadline && $sel->can_read($deadline - Time::HiRes::time())) {
            my $n = sysread($s, $buf, 65536, length $buf);
            last unless $n;
        }
        my $r = DDTTest::parse($buf);
        Test::More::is($r->{code}, 200, "$name - the turn is answered");
        my $j = DDTTest::decode($r->{body}) || {};
        Test::More::is($j->{version}, 2, "$name - and committed");
        Time::HiRes::sleep(0.5);
    },
}
--- json eval
[ undef, { version => 2 } ]
--- no_error_log
[alert]
[error]
