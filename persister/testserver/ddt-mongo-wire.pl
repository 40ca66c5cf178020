#!/usr/bin/perl
# ddt-mongo-wire.pl: a MongoDB wire-protocol server for the persister's
# tests and benchmark (there is no mongod on these machines).  In memory,
# single-threaded, loopback only.  It speaks what libmongoc 1.23 sends:
#
#   OP_QUERY hello/isMaster (the handshake) answered with OP_REPLY;
#   OP_MSG: hello, isMaster, ping, buildInfo, endSessions, insert, update
#   (upsert, $set, $unset, $inc, $setOnInsert, replacement), delete, find
#   (filters with $eq $ne $lt $lte $gt $gte $in $nin $exists $and $or,
#   sort on one field, skip, limit, batchSize), getMore, killCursors,
#   createIndexes (unique enforced, options conflicts are code 85),
#   listIndexes, drop, dropDatabase; write concerns acknowledged.
#
# It is no MongoDB: no TTL expiry, no transactions, no sessions (hello
# advertises none, so the driver uses none), no aggregation.
#
# Faults, driven by the tests on a line-based control port:
#   ping                      -> pong
#   refuse on|off             stop listening (connections refused) and drop
#                             every client; off listens again, same port
#   drop                      close every client connection now
#   delay MS                  answer every command MS ms late (0: off)
#   fail_writes N [CODE]      the next N write commands fail (ok: 0)
#   wcerror N                 the next N write commands get a
#                             writeConcernError (data written, not
#                             acknowledged as durable)
#   reject_dollar on|off      inserted documents with a field name that
#                             starts with '$' or holds '.' are refused one
#                             by one (write error code 2), as before 5.0
#   reject_field NAME         inserted documents with field NAME refused
#   stats                     "writes N inserts N updates N finds N
#                             conns N" (commands and documents seen)
#   reset                     forget data and faults
#
# usage: ddt-mongo-wire.pl --port N --control N [--verbose]

use strict;
use warnings;

use IO::Socket::INET ();
use IO::Select ();
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(time);
use Getopt::Long ();

my ($Port, $CPort, $Verbose) = (27017, 0, 0);
Getopt::Long::GetOptions('port=i' => \$Port, 'control=i' => \$CPort,
                         'verbose' => \$Verbose) or die "bad usage\n";

$SIG{PIPE} = 'IGNORE';

# ---- BSON ---------------------------------------------------------------
#
# A value is [type, ...]: [0x01, double], [0x02, bytes], [0x03, doc],
# [0x04, [values]], [0x05, subtype, bytes], [0x07, 12 bytes], [0x08, 0|1],
# [0x09, ms], [0x0A], [0x10, int], [0x11, 8 raw bytes], [0x12, int],
# [0x13, 16 raw bytes].  A doc is [[key, value], ...] in order.

sub bson_decode {
    my ($buf, $pos) = @_;
    $pos //= 0;
    my $len = unpack('l<', substr($buf, $pos, 4));
    my $end = $pos + $len - 1;
    my @doc;
    $pos += 4;
    while ($pos < $end) {
        my $t = ord(substr($buf, $pos, 1));
        my $z = index($buf, "\0", $pos + 1);
        my $k = substr($buf, $pos + 1, $z - $pos - 1);
        $pos = $z + 1;
        my $v;
        ($v, $pos) = bson_value($buf, $pos, $t);
        push @doc, [$k, $v];
    }
    return (\@doc, $end + 1);
}

sub bson_value {
    my ($buf, $pos, $t) = @_;
    if ($t == 0x01) {
        return ([1, unpack('d<', substr($buf, $pos, 8))], $pos + 8);
    } elsif ($t == 0x02 || $t == 0x0D || $t == 0x0E) {
        my $l = unpack('l<', substr($buf, $pos, 4));
        return ([0x02, substr($buf, $pos + 4, $l - 1)], $pos + 4 + $l);
    } elsif ($t == 0x03) {
        my ($d, $p) = bson_decode($buf, $pos);
        return ([3, $d], $p);
    } elsif ($t == 0x04) {
        my ($d, $p) = bson_decode($buf, $pos);
        return ([4, [map { $_->[1] } @$d]], $p);
    } elsif ($t == 0x05) {
        my $l = unpack('l<', substr($buf, $pos, 4));
        return ([5, ord(substr($buf, $pos + 4, 1)),
                 substr($buf, $pos + 5, $l)], $pos + 5 + $l);
    } elsif ($t == 0x07) {
        return ([7, substr($buf, $pos, 12)], $pos + 12);
    } elsif ($t == 0x08) {
        return ([8, ord(substr($buf, $pos, 1)) ? 1 : 0], $pos + 1);
    } elsif ($t == 0x09) {
        return ([9, unpack('q<', substr($buf, $pos, 8))], $pos + 8);
    } elsif ($t == 0x0A || $t == 0x06 || $t == 0xFF || $t == 0x7F) {
        return ([0x0A], $pos);
    } elsif ($t == 0x10) {
        return ([0x10, unpack('l<', substr($buf, $pos, 4))], $pos + 4);
    } elsif ($t == 0x11) {
        return ([0x11, substr($buf, $pos, 8)], $pos + 8);
    } elsif ($t == 0x12) {
        return ([0x12, unpack('q<', substr($buf, $pos, 8))], $pos + 8);
    } elsif ($t == 0x13) {
        return ([0x13, substr($buf, $pos, 16)], $pos + 16);
    } elsif ($t == 0x0B) {
        my $a = index($buf, "\0", $pos);
        my $b = index($buf, "\0", $a + 1);
        return ([0x0B, substr($buf, $pos, $b + 1 - $pos)], $b + 1);
    }
    die sprintf("bson: type 0x%02x not supported\n", $t);
}

sub bson_encode {
    my ($doc) = @_;
    my $body = '';
    for my $kv (@$doc) {
        $body .= bson_elem($kv->[0], $kv->[1]);
    }
    return pack('l<', length($body) + 5) . $body . "\0";
}

sub bson_elem {
    my ($k, $v) = @_;
    my $t = $v->[0];
    my $h = chr($t) . $k . "\0";
    return $h . pack('d<', $v->[1]) if $t == 1;
    return $h . pack('l<', length($v->[1]) + 1) . $v->[1] . "\0" if $t == 2;
    return $h . bson_encode($v->[1]) if $t == 3;
    if ($t == 4) {
        my $i = 0;
        return $h . bson_encode([map { [$i++, $_] } @{ $v->[1] }]);
    }
    return $h . pack('l<', length($v->[2])) . chr($v->[1]) . $v->[2]
        if $t == 5;
    return $h . $v->[1] if $t == 7 || $t == 0x11 || $t == 0x13 || $t == 0x0B;
    return $h . chr($v->[1] ? 1 : 0) if $t == 8;
    return $h . pack('q<', $v->[1]) if $t == 9 || $t == 0x12;
    return $h if $t == 0x0A;
    return $h . pack('l<', $v->[1]) if $t == 0x10;
    die "bson: cannot encode type $t\n";
}

sub I32 { [0x10, $_[0]] }
sub I64 { [0x12, $_[0]] }
sub STR { [0x02, $_[0]] }
sub BOOL { [0x08, $_[0] ? 1 : 0] }
sub DOC { [0x03, [@_]] }
sub ARR { [0x04, [@_]] }
sub DBL { [0x01, $_[0]] }

sub get {
    my ($doc, $k) = @_;
    for my $kv (@$doc) {
        return $kv->[1] if $kv->[0] eq $k;
    }
    return undef;
}

sub get_path {
    my ($doc, $path) = @_;
    my $v = [3, $doc];
    for my $p (split /\./, $path, -1) {
        if ($v->[0] == 3) {
            $v = get($v->[1], $p);
        } elsif ($v->[0] == 4 && $p =~ /^\d+\z/) {
            $v = $v->[1][$p];
        } else {
            return undef;
        }
        return undef unless defined $v;
    }
    return $v;
}

sub set_path {
    my ($doc, $path, $val) = @_;
    my @p = split /\./, $path, -1;
    my $last = pop @p;
    my $d = $doc;
    for my $p (@p) {
        my $v = get($d, $p);
        unless (defined $v && $v->[0] == 3) {
            $v = [3, []];
            unset_key($d, $p);
            push @$d, [$p, $v];
        }
        $d = $v->[1];
    }
    for my $kv (@$d) {
        if ($kv->[0] eq $last) {
            $kv->[1] = $val;
            return;
        }
    }
    push @$d, [$last, $val];
}

sub unset_key {
    my ($d, $k) = @_;
    @$d = grep { $_->[0] ne $k } @$d;
}

sub unset_path {
    my ($doc, $path) = @_;
    my @p = split /\./, $path, -1;
    my $last = pop @p;
    my $d = $doc;
    for my $p (@p) {
        my $v = get($d, $p);
        return unless defined $v && $v->[0] == 3;
        $d = $v->[1];
    }
    unset_key($d, $last);
}

sub num { my $v = shift; return $v->[0] == 1 || $v->[0] == 0x10 || $v->[0] == 0x12 }

sub truthy {
    my $v = shift;
    return 0 unless defined $v;
    return $v->[1] if $v->[0] == 8;
    return $v->[1] != 0 if num($v);
    return 0 if $v->[0] == 0x0A;
    return 1;
}

# MongoDB's order of type brackets
sub bracket {
    my $t = shift->[0];
    return 1 if $t == 0x0A;
    return 2 if $t == 1 || $t == 0x10 || $t == 0x12 || $t == 0x13;
    return 3 if $t == 2;
    return 4 if $t == 3;
    return 5 if $t == 4;
    return 6 if $t == 5;
    return 7 if $t == 7;
    return 8 if $t == 8;
    return 9 if $t == 9;
    return 10 if $t == 0x11;
    return 11;
}

sub cmpv {
    my ($a, $b) = @_;
    my ($ba, $bb) = (bracket($a), bracket($b));
    return $ba <=> $bb if $ba != $bb;
    return $a->[1] <=> $b->[1] if $ba == 2 || $ba == 8 || $ba == 9;
    return 0 if $ba == 1;
    return $a->[1] cmp $b->[1] if $ba == 3 || $ba == 7 || $ba == 10;
    return bson_encode($a->[1]) cmp bson_encode($b->[1]) if $ba == 4;
    if ($ba == 5) {
        my ($x, $y) = ($a->[1], $b->[1]);
        for my $i (0 .. ($#$x < $#$y ? $#$x : $#$y)) {
            my $c = cmpv($x->[$i], $y->[$i]);
            return $c if $c;
        }
        return @$x <=> @$y;
    }
    return bson_elem('', $a) cmp bson_elem('', $b);
}

sub valkey {
    my $v = shift;
    return 'n' unless defined $v;
    return 'd' . (0 + $v->[1]) if bracket($v) == 2 && $v->[0] != 0x13;
    return 'x' . unpack('H*', bson_elem('', $v));
}

# ---- matching and updating ------------------------------------------------

sub match_op {
    my ($v, $op, $arg) = @_;
    if ($op eq '$eq') {
        return defined $v ? cmpv($v, $arg) == 0 : $arg->[0] == 0x0A;
    }
    return !match_op($v, '$eq', $arg) if $op eq '$ne';
    if ($op eq '$exists') {
        return truthy($arg) ? defined $v : !defined $v;
    }
    if ($op eq '$in' || $op eq '$nin') {
        my $in = 0;
        for my $x (@{ $arg->[1] }) {
            if (match_op($v, '$eq', $x)) { $in = 1; last }
        }
        return $op eq '$in' ? $in : !$in;
    }
    return 0 unless defined $v && bracket($v) == bracket($arg);
    my $c = cmpv($v, $arg);
    return $c < 0 if $op eq '$lt';
    return $c <= 0 if $op eq '$lte';
    return $c > 0 if $op eq '$gt';
    return $c >= 0 if $op eq '$gte';
    die "unknown operator $op\n";
}

sub matches {
    my ($doc, $filter) = @_;
    for my $kv (@$filter) {
        my ($k, $cond) = @$kv;
        if ($k eq '$and' || $k eq '$or') {
            my @sub = map { $_->[1] } @{ $cond->[1] };
            if ($k eq '$and') {
                for (@sub) { return 0 unless matches($doc, $_) }
            } else {
                my $any = 0;
                for (@sub) { if (matches($doc, $_)) { $any = 1; last } }
                return 0 unless $any;
            }
            next;
        }
        my $v = get_path($doc, $k);
        if ($cond->[0] == 3 && @{ $cond->[1] }
            && $cond->[1][0][0] =~ /^\$/)
        {
            for my $o (@{ $cond->[1] }) {
                return 0 unless match_op($v, $o->[0], $o->[1]);
            }
        } else {
            return 0 unless match_op($v, '$eq', $cond);
        }
    }
    return 1;
}

sub clone { my $d = shift; return (bson_decode(bson_encode($d)))[0] }

sub apply_update {
    my ($doc, $u, $inserting) = @_;
    if (!@$u || $u->[0][0] !~ /^\$/) {
        my $id = get($doc, '_id');
        my $new = clone($u);
        unset_key($new, '_id');
        @$doc = ($id ? (['_id', $id]) : (), @$new);
        return;
    }
    for my $kv (@$u) {
        my ($op, $arg) = @$kv;
        for my $f (@{ $arg->[1] }) {
            my ($path, $val) = @$f;
            if ($op eq '$set' || ($op eq '$setOnInsert' && $inserting)) {
                set_path($doc, $path, $val);
            } elsif ($op eq '$unset') {
                unset_path($doc, $path);
            } elsif ($op eq '$inc') {
                my $cur = get_path($doc, $path);
                my $n = ($cur && num($cur) ? $cur->[1] : 0) + $val->[1];
                set_path($doc, $path,
                         ($val->[0] == 1 || ($cur && $cur->[0] == 1))
                         ? DBL($n) : I64($n));
            } elsif ($op eq '$max' || $op eq '$min') {
                my $cur = get_path($doc, $path);
                my $c = $cur ? cmpv($val, $cur) : 1;
                set_path($doc, $path, $val)
                    if !$cur || ($op eq '$max' ? $c > 0 : $c < 0);
            } elsif ($op ne '$setOnInsert') {
                die "update operator $op not supported\n";
            }
        }
    }
}

# ---- storage --------------------------------------------------------------

my %DB;                 # db -> coll -> { docs => {idkey => doc}, seq, ix }
my %Cursors;
my $NextCursor = 1000;
my $OidSeq = 0;

sub coll {
    my ($db, $c, $create) = @_;
    return $DB{$db}{$c} if $DB{$db}{$c};
    return undef unless $create;
    return $DB{$db}{$c} = {
        docs => {}, order => {}, seq => 0,
        ix => [ { name => '_id_', key => [['_id', 1]], unique => 1,
                  map => {} } ],
    };
}

sub ixkey {
    my ($ix, $doc) = @_;
    return join "\x01", map { valkey(get_path($doc, $_->[0])) } @{ $ix->{key} };
}

# the name of the unique index doc would violate (ignoring doc $self)
sub dup_of {
    my ($c, $doc, $self) = @_;
    for my $ix (@{ $c->{ix} }) {
        next unless $ix->{unique};
        my $o = $ix->{map}{ ixkey($ix, $doc) };
        return $ix if defined $o && (!defined $self || $o ne $self);
    }
    return undef;
}

sub ix_add {
    my ($c, $doc, $id) = @_;
    $_->{map}{ ixkey($_, $doc) } = $id for grep { $_->{unique} } @{ $c->{ix} };
}

sub ix_del {
    my ($c, $doc) = @_;
    delete $_->{map}{ ixkey($_, $doc) } for grep { $_->{unique} } @{ $c->{ix} };
}

sub dup_error {
    my ($db, $cn, $ix, $doc, $i) = @_;
    my $what = join ', ', map {
        my $v = get_path($doc, $_->[0]);
        "$_->[0]: " . ($v && $v->[0] == 2 ? "\"$v->[1]\""
                       : $v ? ($v->[1] // 'null') : 'null')
    } @{ $ix->{key} };
    return DOC(['index', I32($i)], ['code', I32(11000)],
               ['errmsg', STR("E11000 duplicate key error collection: "
                              . "$db.$cn index: $ix->{name} dup key: "
                              . "{ $what }")]);
}

sub store_insert {
    my ($db, $cn, $doc, $i) = @_;
    my $c = coll($db, $cn, 1);
    unless (get($doc, '_id')) {
        unshift @$doc, ['_id', [7, pack('NNN', time, $$, ++$OidSeq)]];
    }
    if (my $ix = dup_of($c, $doc)) {
        return dup_error($db, $cn, $ix, $doc, $i);
    }
    my $id = valkey(get($doc, '_id'));
    $c->{docs}{$id} = $doc;
    $c->{order}{$id} = ++$c->{seq};
    ix_add($c, $doc, $id);
    return undef;
}

sub all_docs {
    my ($c) = @_;
    return () unless $c;
    my $o = $c->{order};
    return map { $c->{docs}{$_} } sort { $o->{$a} <=> $o->{$b} } keys %{ $c->{docs} };
}

sub find_docs {
    my ($db, $cn, $filter) = @_;
    my $c = coll($db, $cn, 0) or return ();
    # the _id fast path: {_id: value}
    if (@$filter && $filter->[0][0] eq '_id' && $filter->[0][1][0] != 3) {
        my $d = $c->{docs}{ valkey($filter->[0][1]) };
        return () unless $d && matches($d, $filter);
        return ($d);
    }
    return grep { matches($_, $filter) } all_docs($c);
}

# ---- commands -------------------------------------------------------------

my %Fault = (delay => 0, fail_writes => 0, fail_code => 1, wcerror => 0);
my %Stats = (writes => 0, inserts => 0, updates => 0, finds => 0,
             conns => 0);

sub ok_reply { return [@_, ['ok', DBL(1)]] }

sub err_reply {
    my ($code, $msg) = @_;
    return [['ok', DBL(0)], ['errmsg', STR($msg)], ['code', I32($code)]];
}

sub hello {
    return ok_reply(['helloOk', BOOL(1)], ['ismaster', BOOL(1)],
                    ['isWritablePrimary', BOOL(1)],
                    ['maxBsonObjectSize', I32(16 * 1024 * 1024)],
                    ['maxMessageSizeBytes', I32(48000000)],
                    ['maxWriteBatchSize', I32(100000)],
                    ['localTime', [9, int(time * 1000)]],
                    ['connectionId', I32(1)],
                    ['minWireVersion', I32(0)],
                    ['maxWireVersion', I32(13)],
                    ['readOnly', BOOL(0)]);
}

sub write_fault {
    my ($reply) = @_;
    if ($Fault{fail_writes} > 0) {
        $Fault{fail_writes}--;
        return (err_reply($Fault{fail_code}, 'ddt-mongo-wire: write failed '
                          . '(fault injected)'), 1);
    }
    return (undef, 0);
}

sub add_wc_fault {
    my ($r) = @_;
    if ($Fault{wcerror} > 0) {
        $Fault{wcerror}--;
        splice @$r, -1, 0, ['writeConcernError',
            DOC(['code', I32(64)], ['codeName', STR('WriteConcernFailed')],
                ['errmsg', STR('waiting for replication timed out '
                               . '(fault injected)')])];
    }
    return $r;
}

sub cursor_reply {
    my ($ns, $docs, $batch, $single, $first) = @_;
    $batch = 101 if !$batch || $batch <= 0;
    my @now = splice @$docs, 0, $batch;
    my $id = 0;
    if (@$docs && !$single) {
        $id = $NextCursor++;
        $Cursors{$id} = { ns => $ns, docs => $docs };
    }
    return ok_reply(['cursor', DOC(
        [$first ? 'firstBatch' : 'nextBatch', ARR(map { [3, $_] } @now)],
        ['id', I64($id)], ['ns', STR($ns)])]);
}

sub has_dollar {
    my ($v) = @_;
    if ($v->[0] == 3) {
        for my $kv (@{ $v->[1] }) {
            return 1 if $kv->[0] =~ /^\$|\./ || has_dollar($kv->[1]);
        }
    } elsif ($v->[0] == 4) {
        for (@{ $v->[1] }) { return 1 if has_dollar($_) }
    }
    return 0;
}

# an inserted document refused on its own (reject_dollar, reject_field)
sub refused {
    my ($d) = @_;
    return "field names starting with '\$' or holding '.' are refused "
        . '(fault injected)' if $Fault{reject_dollar} && has_dollar([3, $d]);
    return "documents with a field $Fault{reject_field} are refused "
        . '(fault injected)'
        if $Fault{reject_field} && get($d, $Fault{reject_field});
    return undef;
}

sub cmd_insert {
    my ($db, $cmd, $docs) = @_;
    my ($f, $failed) = write_fault();
    return $f if $failed;
    my $cn = get($cmd, 'insert')->[1];
    my $ordered = get($cmd, 'ordered');
    $ordered = !defined $ordered || truthy($ordered);
    my (@errs, $n);
    $n = 0;
    my $i = 0;
    for my $d (@$docs) {
        $Stats{inserts}++;
        if (my $why = refused($d)) {
            push @errs, DOC(['index', I32($i++)], ['code', I32(2)],
                            ['errmsg', STR($why)]);
            last if $ordered;
            next;
        }
        my $e = store_insert($db, $cn, $d, $i++);
        if ($e) { push @errs, $e; last if $ordered } else { $n++ }
    }
    return add_wc_fault(ok_reply(['n', I32($n)],
                                 @errs ? (['writeErrors', ARR(@errs)]) : ()));
}

sub cmd_update {
    my ($db, $cmd, $ups) = @_;
    my ($f, $failed) = write_fault();
    return $f if $failed;
    my $cn = get($cmd, 'update')->[1];
    my $ordered = get($cmd, 'ordered');
    $ordered = !defined $ordered || truthy($ordered);
    my $c = coll($db, $cn, 1);
    my ($n, $mod, @errs, @upserted) = (0, 0);
    my $i = -1;
    for my $u (@$ups) {
        $i++;
        $Stats{updates}++;
        my $q = get($u, 'q')->[1];
        my $upd = get($u, 'u')->[1];
        my $multi = truthy(get($u, 'multi'));
        my @hit = find_docs($db, $cn, $q);
        @hit = ($hit[0]) if @hit && !$multi;
        if (@hit) {
            my $bad;
            for my $d (@hit) {
                my $id = valkey(get($d, '_id'));
                my $new = clone($d);
                apply_update($new, $upd, 0);
                if (my $ix = dup_of($c, $new, $id)) {
                    $bad = dup_error($db, $cn, $ix, $new, $i);
                    last;
                }
                ix_del($c, $d);
                @$d = @$new;
                ix_add($c, $d, $id);
                $n++;
                $mod++;
            }
            if ($bad) { push @errs, $bad; last if $ordered }
            next;
        }
        next unless truthy(get($u, 'upsert'));
        my $new = [];
        for my $kv (@$q) {
            next if $kv->[0] =~ /^\$/;
            if ($kv->[1][0] == 3 && @{ $kv->[1][1] }
                && $kv->[1][1][0][0] =~ /^\$/)
            {
                my $eq = get($kv->[1][1], '$eq');
                set_path($new, $kv->[0], $eq) if $eq;
                next;
            }
            set_path($new, $kv->[0], $kv->[1]);
        }
        apply_update($new, $upd, 1);
        if (!get($new, '_id')) {
            my $id = get_path($q, '_id');
            unshift @$new, ['_id', $id && $id->[0] != 3 ? $id
                                   : [7, pack('NNN', time, $$, ++$OidSeq)]];
        }
        my $e = store_insert($db, $cn, $new, $i);
        if ($e) { push @errs, $e; last if $ordered; next }
        $n++;
        push @upserted, DOC(['index', I32($i)], ['_id', get($new, '_id')]);
    }
    return add_wc_fault(ok_reply(['n', I32($n)], ['nModified', I32($mod)],
                                 @upserted ? (['upserted', ARR(@upserted)]) : (),
                                 @errs ? (['writeErrors', ARR(@errs)]) : ()));
}

sub cmd_delete {
    my ($db, $cmd, $dels) = @_;
    my ($f, $failed) = write_fault();
    return $f if $failed;
    my $cn = get($cmd, 'delete')->[1];
    my $c = coll($db, $cn, 0);
    my $n = 0;
    for my $d (@$dels) {
        my $q = get($d, 'q')->[1];
        my $limit = get($d, 'limit');
        my @hit = find_docs($db, $cn, $q);
        @hit = ($hit[0]) if @hit && $limit && $limit->[1] == 1;
        for my $h (@hit) {
            my $id = valkey(get($h, '_id'));
            ix_del($c, $h);
            delete $c->{docs}{$id};
            delete $c->{order}{$id};
            $n++;
        }
    }
    return add_wc_fault(ok_reply(['n', I32($n)]));
}

sub cmd_find {
    my ($db, $cmd) = @_;
    $Stats{finds}++;
    my $cn = get($cmd, 'find')->[1];
    my $filter = get($cmd, 'filter');
    my @docs = find_docs($db, $cn, $filter ? $filter->[1] : []);
    if (my $s = get($cmd, 'sort')) {
        if (my ($k) = @{ $s->[1] }) {
            my ($f, $dir) = ($k->[0], $k->[1][1] < 0 ? -1 : 1);
            @docs = sort {
                $dir * cmpv(get_path($a, $f) // [0x0A], get_path($b, $f) // [0x0A])
            } @docs;
        }
    }
    my $skip = get($cmd, 'skip');
    splice @docs, 0, $skip->[1] if $skip && $skip->[1] > 0;
    my $limit = get($cmd, 'limit');
    splice @docs, $limit->[1] if $limit && $limit->[1] > 0 && @docs > $limit->[1];
    my $bs = get($cmd, 'batchSize');
    my $single = truthy(get($cmd, 'singleBatch'));
    return cursor_reply("$db.$cn", [map { clone($_) } @docs],
                        $bs ? $bs->[1] : 0, $single, 1);
}

sub cmd_getmore {
    my ($db, $cmd) = @_;
    my $id = get($cmd, 'getMore')->[1];
    my $c = delete $Cursors{$id};
    return err_reply(43, "cursor id $id not found") unless $c;
    my $bs = get($cmd, 'batchSize');
    return cursor_reply($c->{ns}, $c->{docs}, $bs ? $bs->[1] : 0, 0, 0);
}

sub cmd_create_indexes {
    my ($db, $cmd) = @_;
    my $cn = get($cmd, 'createIndexes')->[1];
    my $c = coll($db, $cn, 1);
    my $before = @{ $c->{ix} };
    for my $spec (map { $_->[1] } @{ get($cmd, 'indexes')->[1] }) {
        my $name = get($spec, 'name')->[1];
        my $key = [map { [$_->[0], $_->[1][1]] } @{ get($spec, 'key')->[1] }];
        my $unique = truthy(get($spec, 'unique'));
        my $ttl = get($spec, 'expireAfterSeconds');
        my ($old) = grep { $_->{name} eq $name } @{ $c->{ix} };
        if ($old) {
            my $same = $old->{unique} == $unique
                && join(',', map { "@$_" } @{ $old->{key} })
                   eq join(',', map { "@$_" } @$key)
                && (($old->{ttl} // -1) == ($ttl ? $ttl->[1] : -1));
            return err_reply(85, "An existing index has the same name as the "
                             . "requested index: $name") unless $same;
            next;
        }
        my $ix = { name => $name, key => $key, unique => $unique,
                   ttl => $ttl ? $ttl->[1] : undef, map => {} };
        if ($unique) {
            for my $d (all_docs($c)) {
                my $k = ixkey($ix, $d);
                return err_reply(11000, "E11000 duplicate key error "
                                 . "building index $name")
                    if exists $ix->{map}{$k};
                $ix->{map}{$k} = valkey(get($d, '_id'));
            }
        }
        push @{ $c->{ix} }, $ix;
    }
    return ok_reply(['numIndexesBefore', I32($before)],
                    ['numIndexesAfter', I32(scalar @{ $c->{ix} })]);
}

sub cmd_list_indexes {
    my ($db, $cmd) = @_;
    my $cn = get($cmd, 'listIndexes')->[1];
    my $c = coll($db, $cn, 0);
    return err_reply(26, "ns does not exist: $db.$cn") unless $c;
    my @specs = map {
        my $ix = $_;
        [['v', I32(2)],
         ['key', DOC(map { [$_->[0], I32($_->[1])] } @{ $ix->{key} })],
         ['name', STR($ix->{name})],
         ($ix->{unique} && $ix->{name} ne '_id_' ? (['unique', BOOL(1)]) : ()),
         (defined $ix->{ttl} ? (['expireAfterSeconds', I64($ix->{ttl})]) : ())]
    } @{ $c->{ix} };
    return cursor_reply("$db.\$cmd.listIndexes.$cn", \@specs, 0, 0, 1);
}

sub command {
    my ($db, $cmd, $seqs) = @_;
    my $name = $cmd->[0][0];
    my $lc = lc $name;
    return hello() if $lc eq 'hello' || $lc eq 'ismaster';
    return ok_reply() if $lc eq 'ping' || $lc eq 'endsessions';
    if ($lc eq 'buildinfo') {
        return ok_reply(['version', STR('6.0.0-ddt-mongo-wire')],
                        ['versionArray', ARR(I32(6), I32(0), I32(0), I32(0))]);
    }
    if ($name eq 'insert') {
        $Stats{writes}++;
        my $docs = $seqs->{documents}
            // [map { $_->[1] } @{ (get($cmd, 'documents') // [4, []])->[1] }];
        return cmd_insert($db, $cmd, $docs);
    }
    if ($name eq 'update') {
        $Stats{writes}++;
        my $u = $seqs->{updates}
            // [map { $_->[1] } @{ (get($cmd, 'updates') // [4, []])->[1] }];
        return cmd_update($db, $cmd, $u);
    }
    if ($name eq 'delete') {
        $Stats{writes}++;
        my $d = $seqs->{deletes}
            // [map { $_->[1] } @{ (get($cmd, 'deletes') // [4, []])->[1] }];
        return cmd_delete($db, $cmd, $d);
    }
    return cmd_find($db, $cmd) if $name eq 'find';
    return cmd_getmore($db, $cmd) if $name eq 'getMore';
    if ($name eq 'killCursors') {
        my @ids = map { $_->[1] } @{ get($cmd, 'cursors')->[1] };
        delete $Cursors{$_} for @ids;
        return ok_reply(['cursorsKilled', ARR(map { I64($_) } @ids)]);
    }
    return cmd_create_indexes($db, $cmd) if $name eq 'createIndexes';
    return cmd_list_indexes($db, $cmd) if $name eq 'listIndexes';
    if ($name eq 'dropDatabase') {
        delete $DB{$db};
        return ok_reply();
    }
    if ($name eq 'drop') {
        my $cn = get($cmd, 'drop')->[1];
        return err_reply(26, 'ns not found') unless delete $DB{$db}{$cn};
        return ok_reply();
    }
    return err_reply(59, "no such command: '$name'");
}

# ---- wire -----------------------------------------------------------------

my $ReqId = 1;

sub op_msg_reply {
    my ($to, $doc) = @_;
    my $body = pack('V', 0) . "\0" . bson_encode($doc);
    return pack('l<l<l<l<', 16 + length $body, $ReqId++, $to, 2013) . $body;
}

sub op_reply {
    my ($to, $doc) = @_;
    my $body = pack('l<q<l<l<', 8, 0, 0, 1) . bson_encode($doc);
    return pack('l<l<l<l<', 16 + length $body, $ReqId++, $to, 1) . $body;
}

# one message in, one reply out (or undef: no reply wanted)
sub handle {
    my ($msg) = @_;
    my ($len, $id, $to, $op) = unpack('l<l<l<l<', $msg);
    my ($reply, $more);
    eval {
        if ($op == 2013) {
            my $flags = unpack('V', substr($msg, 16, 4));
            my $end = $len - (($flags & 1) ? 4 : 0);
            my $pos = 20;
            my ($cmd, %seqs);
            while ($pos < $end) {
                my $kind = ord(substr($msg, $pos, 1));
                $pos++;
                if ($kind == 0) {
                    ($cmd, $pos) = bson_decode($msg, $pos);
                } else {
                    my $sl = unpack('l<', substr($msg, $pos, 4));
                    my $send = $pos + $sl;
                    my $z = index($msg, "\0", $pos + 4);
                    my $ident = substr($msg, $pos + 4, $z - $pos - 4);
                    my $p = $z + 1;
                    my @docs;
                    while ($p < $send) {
                        my $d;
                        ($d, $p) = bson_decode($msg, $p);
                        push @docs, $d;
                    }
                    $seqs{$ident} = \@docs;
                    $pos = $send;
                }
            }
            my $dbv = get($cmd, '$db');
            my $r = command($dbv ? $dbv->[1] : 'admin', $cmd, \%seqs);
            $more = $flags & 2;
            $reply = op_msg_reply($id, $r);
        } elsif ($op == 2004) {
            my $z = index($msg, "\0", 20);
            my $ns = substr($msg, 20, $z - 20);
            my ($q) = bson_decode($msg, $z + 9);
            $q = get($q, '$query')->[1] if get($q, '$query');
            (my $db = $ns) =~ s/\..*//;
            $reply = op_reply($id, command($db, $q, {}));
        } else {
            die "opcode $op not supported\n";
        }
    };
    if ($@) {
        chomp(my $e = $@);
        warn "ddt-mongo-wire: $e\n";
        $reply = $op == 2004 ? op_reply($id, err_reply(8, $e))
                             : op_msg_reply($id, err_reply(8, $e));
    }
    return $more ? undef : $reply;
}

# ---- event loop -----------------------------------------------------------

sub listener {
    my $p = shift;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                  Listen => 64, ReuseAddr => 1)
        or die "ddt-mongo-wire: listen on $p: $!\n";
    return $s;
}

my $L = listener($Port);
my $C = $CPort ? listener($CPort) : undef;
my %Conn;           # fileno -> { s, in, out, ctl, queue => [[due, bytes]] }
my $Sel = IO::Select->new($L, $C ? $C : ());

print STDERR "ddt-mongo-wire: listening on 127.0.0.1:$Port"
    . ($C ? ", control on $CPort" : '') . "\n";

sub close_conn {
    my $c = shift;
    return unless $c->{s};
    my $fd = fileno $c->{s};
    $Sel->remove($c->{s});
    close $c->{s};
    delete $Conn{$fd} if defined $fd;
    %$c = ();
}

sub drop_clients {
    for my $c (values %Conn) {
        close_conn($c) unless $c->{ctl};
    }
}

sub control {
    my ($line) = @_;
    my @w = split ' ', $line;
    my $c = shift(@w) // '';
    return 'pong' if $c eq 'ping';
    if ($c eq 'refuse') {
        if (($w[0] // 'on') eq 'on') {
            if ($L) { $Sel->remove($L); close $L; $L = undef }
            drop_clients();
        } elsif (!$L) {
            $L = listener($Port);
            $Sel->add($L);
        }
        return 'ok';
    }
    if ($c eq 'drop') { drop_clients(); return 'ok' }
    if ($c eq 'delay') { $Fault{delay} = ($w[0] // 0) / 1000; return 'ok' }
    if ($c eq 'fail_writes') {
        $Fault{fail_writes} = $w[0] // 1;
        $Fault{fail_code} = $w[1] // 1;
        return 'ok';
    }
    if ($c eq 'wcerror') { $Fault{wcerror} = $w[0] // 1; return 'ok' }
    if ($c eq 'reject_dollar') {
        $Fault{reject_dollar} = ($w[0] // 'on') eq 'on';
        return 'ok';
    }
    if ($c eq 'reject_field') { $Fault{reject_field} = $w[0]; return 'ok' }
    if ($c eq 'stats') {
        return join ' ', map { "$_ $Stats{$_}" } sort keys %Stats;
    }
    if ($c eq 'reset') {
        %DB = (); %Cursors = ();
        %Fault = (delay => 0, fail_writes => 0, fail_code => 1, wcerror => 0);
        $_ = 0 for values %Stats;
        return 'ok';
    }
    return "error unknown command $c";
}

sub flush_out {
    my $c = shift;
    while (length $c->{out}) {
        my $n = syswrite($c->{s}, $c->{out});
        if (!defined $n) {
            return 1 if $!{EAGAIN} || $!{EWOULDBLOCK};
            close_conn($c);
            return 0;
        }
        substr($c->{out}, 0, $n) = '';
    }
    return 1;
}

while (1) {
    my $now = time;
    my $wait = 1;
    for my $c (values %Conn) {
        next unless $c->{queue} && @{ $c->{queue} };
        my $d = $c->{queue}[0][0] - $now;
        $wait = $d if $d < $wait;
    }
    $wait = 0 if $wait < 0;
    my $wsel = IO::Select->new(map { $_->{s} } grep { length($_->{out} // '') }
                               values %Conn);
    my ($r, $w) = IO::Select->select($Sel, $wsel->count ? $wsel : undef,
                                     undef, $wait);
    for my $s (@{ $r || [] }) {
        if ((defined $L && $s == $L) || (defined $C && $s == $C)) {
            my $n = $s->accept or next;
            $n->blocking(0);
            $Conn{ fileno $n } = { s => $n, in => '', out => '',
                                   ctl => (defined $C && $s == $C) ? 1 : 0,
                                   queue => [] };
            $Stats{conns}++ unless defined $C && $s == $C;
            $Sel->add($n);
            next;
        }
        my $c = $Conn{ fileno $s } or next;
        my $n = sysread($s, $c->{in}, 1 << 20, length $c->{in});
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EWOULDBLOCK};
            close_conn($c);
            next;
        }
        if ($n == 0) { close_conn($c); next }
        if ($c->{ctl}) {
            while ($c->{in} =~ s/^(.*?)\r?\n//) {
                $c->{out} .= control($1) . "\n";
            }
            flush_out($c);
            next;
        }
        while (length $c->{in} >= 4) {
            my $len = unpack('l<', $c->{in});
            last if length $c->{in} < $len;
            my $msg = substr($c->{in}, 0, $len, '');
            my $reply = handle($msg);
            push @{ $c->{queue} }, [time + $Fault{delay}, $reply]
                if defined $reply;
            last unless $c->{s};
        }
    }
    $now = time;
    for my $c (values %Conn) {
        next unless $c->{s};
        while ($c->{queue} && @{ $c->{queue} } && $c->{queue}[0][0] <= $now) {
            $c->{out} .= (shift @{ $c->{queue} })->[1];
        }
        flush_out($c) if length $c->{out};
    }
}
