# Regenerates the seed corpora under fuzz/corpus/ from the shipped knowledge,
# tests/data and .env.example.  Run from the repository root: python3 fuzz/mkseeds.py
import os, glob, json, random
random.seed(7)
R = 'fuzz/corpus'
def put(t, name, data):
    d = os.path.join(R, t); os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(os.path.join(d, name), 'wb').write(data)

# --- kb ---
for f in sorted(glob.glob('knowledge/**/*.md', recursive=True)):
    rel = os.path.relpath(f, 'knowledge'); base = rel.replace('/', '-')[:-3]
    data = open(f, 'rb').read()
    put('kb', ('rule-' if rel.startswith('safety/') else 'answer-') + base,
        (b'1' if rel.startswith('safety/') else b'0') + data)
put('kb', 'synonyms', b'2' + open('knowledge/synonyms.txt', 'rb').read())
put('kb', 'clinic', b'5' + open('knowledge/clinic.yaml', 'rb').read() +
    b'%%%%Call {{clinic.phone}}.\n\nOpen: {{clinic.hours}}\n\n{{ clinic.prices }} {{clinic.nope}}')
rw = open('knowledge/safety/rule-words.txt', 'rb').read()
put('kb', 'rule-words', b'6' + rw[:rw.index(b'\n', 6000) + 1] +
    b'%%%%my calf is swollen and hot since the flight and I fell off my bike')
crisis = rw.index(b'\nrule crisis\n') + 1
put('kb', 'rule-words-crisis', b'6' + rw[crisis:rw.index(b'\n', crisis + 6000) + 1] +
    b'%%%%nobody would miss me anymore, I am so tired of all of it')
unless = rw.index(b'\nunless\n') + 1
put('kb', 'rule-words-unless', b'6' + rw[unless:rw.index(b'\n', unless + 3000) + 1] +
    b'%%%%in the film the hero had chest pain lol, anyway do you do swedish massage')
put('kb', 'rule-words-unless-errors', b'6' + b'unless x\nbias 1\nat 1\nwords 0\nfor nosuch 1\n'
    b'for crisis\nunless\nrule crisis\nbias 1\nat 1\nwords 3\nfor crisis 1\n%%%%film')
put('kb', 'rule-words-errors', b'6' + b'rule nosuch\nbias x\nat 1\nrule emergency\nat 1\n'
    b'1.0 numb\n2.0 numbness\n1 a b c\nrule emergency\n%%%%numb')
put('kb', 'classifier', b'7' + open('knowledge/classifier.txt', 'rb').read()[:4000] +
    b'%%%%hi, is deep tissue massage worth it for my stiff back?')
# patterns: a few triggers from the shipped rules, each with a message
import re
pats = []
for f in sorted(glob.glob('knowledge/safety/*.md')):
    for line in open(f):
        m = re.match(r"\s*- '(.*)'\s*$", line) or re.match(r'\s*- (.*)$', line)
        if m and ('(' in m.group(1) or ' ' in m.group(1)):
            pats.append(m.group(1).replace("''", "'"))
msgs = [l.split('\t')[0] for l in open('tests/data/safety.tsv') if l.strip() and not l.startswith('#')]
for i, p in enumerate(random.sample(pats, min(16, len(pats)))):
    put('kb', 'pattern-%02d' % i, '3' + p + '\n' + random.choice(msgs))
for i, p in enumerate(['a .. b', '(x|y z) & w', '=exact word*', 'cant feel', '((a))', 'a & (b|c)',
                       'numb* .. (groin|=bottom)', 'no (', 'a...b', '*x', 'a | | b']):
    put('kb', 'pattern-syntax-%02d' % i, '3' + p + '\nI cant feel my groin, a b x y z w')
# folders: the discord fixture, and a small mixed one
def folder(files, qs):
    out = []
    for kind, data in files: out.append(kind + data)
    for q in qs: out.append(b'3' + q.encode())
    return b'%%%%'.join(out)
fx = 'tests/fixtures/discord-knowledge'
files = []
for f in sorted(glob.glob(fx + '/**/*.md', recursive=True)):
    rel = os.path.relpath(f, fx)
    files.append((b'1' if rel.startswith('safety/') else b'0', open(f, 'rb').read()))
put('kb', 'folder-fixture', b'4' + folder(files, ['deep tissue', 'I want to kill myself']))
small = [(b'0', open('knowledge/about/greeting.md', 'rb').read()),
         (b'0', open('knowledge/massage/swedish-massage.md', 'rb').read()),
         (b'1', open('knowledge/safety/disclaimer.md', 'rb').read()),
         (b'1', open('knowledge/safety/pregnancy.md', 'rb').read()),
         (b'2', b'swedish massage = classic massage\nmassage therapist = masseuse = rmt\n')]
put('kb', 'folder-small', b'4' + folder(small, ['hello, is swedish massage ok when pregnant?']))

# --- gateway ---
def msg(content, **kw):
    d = {"id": "1001", "channel_id": "20", "guild_id": "30", "author": {"id": "40", "username": "u"},
         "content": content, "mentions": [], "type": 0}
    d.update(kw)
    return {"op": 0, "s": 7, "t": "MESSAGE_CREATE", "d": d}
frames = {
 'hello': {"op": 10, "d": {"heartbeat_interval": 41250}},
 'heartbeat': {"op": 1, "d": None},
 'ack': {"op": 11},
 'reconnect': {"op": 7, "d": None},
 'invalid-true': {"op": 9, "d": True},
 'invalid-false': {"op": 9, "d": False},
 'ready': {"op": 0, "t": "READY", "s": 1, "d": {"session_id": "abc123", "resume_gateway_url":
           "wss://gateway-us-east1-b.discord.gg", "user": {"id": "111111111111111111", "username": "massagebot", "bot": True},
           "guilds": []}},
 'resumed': {"op": 0, "t": "RESUMED", "s": 9, "d": {}},
 'guild-create': {"op": 0, "t": "GUILD_CREATE", "s": 2, "d": {"id": "30", "channels": []}},
 'msg-dm': msg("does massage help back pain?", guild_id=None),
 'msg-mention': msg("<@111111111111111111> how often should I get a massage?",
                    mentions=[{"id": "111111111111111111", "username": "massagebot"}]),
 'msg-nick-mention': msg("<@!111111111111111111>   ", mentions=[{"id": "111111111111111111"}]),
 'msg-bot': msg("hi", author={"id": "41", "bot": True}),
 'msg-webhook': msg("hi", webhook_id="77"),
 'msg-reply': msg("is heat good? \u00e9\u2019 \U0001F600", type=19, message_reference={"message_id": "5"}),
 'msg-long': msg(("Massage can ease pain. " * 60 + "\n\n") * 2 + "x" * 2100),
 'press': {"op": 0, "t": "INTERACTION_CREATE", "s": 8, "d": {"id": "801", "type": 3, "token": "aBc.d-e_f",
           "channel_id": "20", "guild_id": "30", "member": {"user": {"id": "40"}}, "message": {"id": "77"},
           "data": {"custom_id": "mb:choice:2:sports-massage", "component_type": 2}}},
 'thumb': {"op": 0, "t": "MESSAGE_REACTION_ADD", "s": 9, "d": {"user_id": "40", "channel_id": "20",
           "message_id": "77", "guild_id": "30", "member": {"user": {"id": "40"}},
           "emoji": {"id": None, "name": "\U0001F44E\U0001F3FD"}}},
 'op-other': {"op": 3, "d": {}},
}
for k, v in frames.items():
    put('gateway', 'frame-' + k, '0' + json.dumps(v, ensure_ascii=(k != 'msg-reply')))
put('gateway', 'frame-bad-json', '0{"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"id":"1"')
put('gateway', 'frame-dup-key', '0{"op":1,"op":2}')
for i, t in enumerate([open('knowledge/massage/massage-types.md').read(),
                       "First paragraph.\n\nSecond one! A line\nand \u00fcber long words " + "w" * 300]):
    put('gateway', 'split-%d' % i, '1' + chr([120, 40][i]) + t)
put('gateway', 'gateway-bot', '2' + json.dumps({"url": "wss://gateway.discord.gg", "shards": 1,
    "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}}))
put('gateway', 'gateway-bot-local', '2{"url":"ws://127.0.0.1:8765","session_start_limit":{"remaining":0,"reset_after":500}}')
for i, u in enumerate(["wss://gateway.discord.gg", "ws://127.0.0.1:8765/gw?x=1", "wss://[::1]:443/", "ws://h:0"]):
    put('gateway', 'url-%d' % i, '3' + u)
put('gateway', 'ratelimit', '4X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset-After: 1.234\r\n'
    'X-RateLimit-Bucket: abcd1234\r\nX-RateLimit-Global: true\r\nX-RateLimit-Scope: user\r\nRetry-After: 2\r\n')
put('gateway', 'retry-body', '4{"message":"You are being rate limited.","retry_after":1.234,"global":false}')
put('gateway', 'channels', '51, 22,333 ,4444\n333')

# --- answer ---
qs = [l.split('\t')[0] for l in open('tests/data/questions.tsv') if l.strip() and not l.startswith('#')]
for i, q in enumerate(random.sample(qs, 40)):
    put('answer', 'q-%02d' % i, q)
for i, q in enumerate(random.sample(msgs, 40)):
    put('answer', 's-%02d' % i, q)
put('answer', 'long', ("my back hurts and my legs are numb. " * 120)[:4200])
# a red flag after the first 4 KB: safety reads the whole message, past the cut
put('answer', 'long-red-flag', "is massage good for my back? " * 200 + "I want to kill myself")
put('answer', 'mixed', "Hi! Is deep\u2011tissue massage ok? I can\u2019t feel my groin \U0001F622 caf\u00e9 \xef\xbf\xbd")
put('answer', 'invalid', b'massage \xff\xfe\xc0\x80 ok?\x00 back pain')

# --- dotenv ---
put('dotenv', 'example', open('.env.example', 'rb').read())
put('dotenv', 'quoted', 'export DISCORD_TOKEN="abc\\"def\\\\ghi0123456789xyz" # c\n'
    "DISCORD_CHANNELS='123, 456 ,789'\nLOG_LEVEL = debug\r\nMATCH_THRESHOLD=0.5\nMATCH_MARGIN=1e-1\n"
    'BOT_PLATFORM=console\nDISCORD_API_BASE=http://127.0.0.1:9/api\nKNOWLEDGE_DIR=/srv/k # dir\n')
put('dotenv', 'bad', '1KEY=x\nNOEQ\nA="unterminated\nB=\'x\' trailing\nexport   C=\n =v\n')
