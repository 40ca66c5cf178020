# t/redis_down.t: Redis down or slow (SPEC 6, 9.4; issue 5).  Redis is
# stopped in the middle of a conversation (turns answer 503
# store_unavailable at once, health 503, metrics count it, the error log
# says it once) and started again (the module recovers by itself and the
# conversation goes on); then Redis is replaced by a TCP server that
# accepts and never answers (every request answers 503 within
# ddt_redis_timeout, a client that leaves is not a problem) and Redis comes
# back again.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use Time::HiRes qw(time sleep);

no_shuffle();

our $Redis = DDTRedis::start_redis();
$ENV{TEST_NGINX_REDIS_PORT} = $Redis->{port};
our $RP = $Redis->{port};
our $Hole;
our $LogMark = 0;

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_timeout 300ms;
    ddt_redis_connect_timeout 300ms;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 15,
);

sub errlog { Test::Nginx::Socket::server_root() . "/logs/error.log" }

sub mark_log { $LogMark = -s errlog() || 0 }

# error-log lines written since mark_log()
sub log_since {
    open my $f, '<', errlog() or return ();
    seek $f, $LogMark, 0;
    my @l = <$f>;
    return @l;
}

# Stop Redis keeping its data (SHUTDOWN SAVE writes dump.rdb in its dir).
sub redis_down {
    eval { DDTRedis::cmd($RP, 'SHUTDOWN', 'SAVE') };
    DDTRedis::stop_redis($Redis);
}

sub redis_up {
    $Redis = DDTRedis::start_redis(port => $RP);
}

sub r_pause {
    DDTRedis::cmd($RP, 'CLIENT', 'PAUSE', shift, 'ALL');
}

sub wait_healthy {
    my $t0 = time;
    while (time - $t0 < 10) {
        return time - $t0 if DDTTest::http('GET', '/v1/health')->{code} == 200;
        sleep 0.05;
    }
    return undef;
}

sub timed {
    my @req = @_;
    my $t0 = time;
    my $r = DDTTest::http(@req);
    $r->{secs} = time - $t0;
    $r->{json} = DDTTest::decode($r->{body}) || {};
    return $r;
}

run_tests();

__DATA__

=== TEST 1: Redis stopped mid-conversation: 503 store_unavailable at once, health 503, counted, logged once; restarted: the conversation goes on
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"down-conv-0001\"}",
"POST /v1/sessions/down-conv-0001/turns\n{\"text\": \"before\"}",
"POST /v1/sessions/down-conv-0001/turns\n{\"text\": \"after\"}",
]
--- error_code eval
[201, 200, 200]
--- json eval
[ undef, { version => 2 }, { version => 3, 'messages.0.text' => 'You said after.' } ]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        main::mark_log();
        main::redis_down();

        my @bad;
        for my $i (1 .. 5) {
            my $r = main::timed('POST', '/v1/sessions/down-conv-0001/turns',
                                '{"text": "lost"}');
            push @bad, "turn $i: $r->{code} in $r->{secs}s"
                unless $r->{code} == 503
                       && ($r->{json}{error}{code} // '') eq 'store_unavailable'
                       && $r->{secs} < 1;
        }
        my $c = main::timed('POST', '/v1/sessions',
                            '{"project": "echo", "sessionId": "down-new-00001"}');
        push @bad, "create: $c->{code}" unless $c->{code} == 503;
        my $g = main::timed('GET', '/v1/sessions/down-conv-0001');
        push @bad, "get: $g->{code}" unless $g->{code} == 503;
        my $h = main::timed('GET', '/v1/health');
        push @bad, "health: $h->{code}" unless $h->{code} == 503;
        Test::More::is("@bad", "", "$name - every request is 503 store_unavailable within 1 s");

        my $m = DDTTest::http('GET', '/metrics')->{body};
        my ($n) = $m =~ /^ddt_store_errors_total (\d+)/m;
        Test::More::ok(($n // 0) >= 8, "$name - metrics count the failures: " . ($n // 'none'));

        main::redis_up();
        my $secs = main::wait_healthy();
        Test::More::ok(defined $secs, "$name - health is 200 again by itself ("
                       . ($secs // 'never') . " s)");

        my @log = main::log_since();
        my @err = grep { /\[error\].*ddt: redis/ } @log;
        Test::More::is(scalar @err, 1, "$name - the outage is logged once")
            or Test::More::diag(@err);
        Test::More::like($err[0] // '', qr/127\.0\.0\.1:$main::RP/, "$name - with where");
        Test::More::ok((grep { /ddt: redis .* is back/ } @log), "$name - and the recovery");
        Test::More::ok(!(grep { /\[error\].*store_unavailable/ } @log),
                       "$name - requests are not logged as errors one by one");
    },
}
--- no_error_log
[alert]
[crit]



=== TEST 2: Redis replaced by a server that never answers: 503 within ddt_redis_timeout, then Redis is back
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"down-hole-0001\"}",
"POST /v1/sessions/down-hole-0001/turns\n{\"text\": \"back\"}",
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { version => 2, 'messages.0.text' => 'You said back.' } ]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;

        # a Redis that takes the command and does not answer in time
        main::r_pause(1500);
        my $slow = main::timed('POST', '/v1/sessions/down-hole-0001/turns',
                               '{"text": "slow"}');
        Test::More::is($slow->{code}, 503, "$name - a paused Redis: 503");
        Test::More::ok($slow->{secs} >= 0.25 && $slow->{secs} < 1.2,
                       "$name - after ddt_redis_timeout (300ms): $slow->{secs} s");
        Time::HiRes::sleep(1.6);

        main::redis_down();
        $main::Hole = DDTRedis::start_blackhole($main::RP);

        my (@bad, $max);
        $max = 0;
        for my $i (1 .. 6) {
            my $r = main::timed('POST', '/v1/sessions/down-hole-0001/turns',
                                '{"text": "lost"}');
            $max = $r->{secs} if $r->{secs} > $max;
            push @bad, "turn $i: $r->{code} in $r->{secs}s"
                unless $r->{code} == 503
                       && ($r->{json}{error}{code} // '') eq 'store_unavailable'
                       && $r->{secs} < 1.2;
            Time::HiRes::sleep(0.15);
        }
        Test::More::is("@bad", "", "$name - 503 within the timeout (slowest " . sprintf("%.3f", $max) . " s)");

        # several at once, and clients that leave before the answer
        my @r = DDTTest::at_once(map {
            DDTTest::raw_request('POST', '/v1/sessions/down-hole-0001/turns',
                                 '{"text": "many"}')
        } 1 .. 5);
        Test::More::is(CORE::join(' ', map { $_->{code} } @r), '503 503 503 503 503',
                       "$name - concurrent requests all 503");
        for (1 .. 5) {
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => DDTTest::port()) or next;
            print {$s} DDTTest::raw_request('POST', '/v1/sessions/down-hole-0001/turns',
                                            '{"text": "gone"}');
            close $s;
        }
        Time::HiRes::sleep(0.5);
        my $h = main::timed('GET', '/v1/health');
        Test::More::is($h->{code}, 503, "$name - health 503 while Redis does not answer");
        Test::More::ok($h->{secs} < 1.2, "$name - within the timeout");

        DDTRedis::stop($main::Hole->{pid});
        main::redis_up();
        my $secs = main::wait_healthy();
        Test::More::ok(defined $secs, "$name - recovered by itself ("
                       . ($secs // 'never') . " s)");
    },
}
--- no_error_log
[alert]
[crit]
