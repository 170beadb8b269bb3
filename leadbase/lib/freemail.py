"""Free webmail domains: a shared domain there says nothing about two people being related."""

FREE_MAIL_DOMAINS = frozenset(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it ymail.com
    hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.it hotmail.es outlook.com outlook.de
    outlook.fr live.com live.co.uk live.fr msn.com icloud.com me.com mac.com aol.com gmx.de gmx.net
    gmx.at gmx.ch gmx.com web.de t-online.de freenet.de mail.ru yandex.ru yandex.com proton.me
    protonmail.com pm.me tutanota.com zoho.com qq.com 163.com 126.com sina.com naver.com daum.net
    orange.fr free.fr laposte.net wanadoo.fr sfr.fr libero.it virgilio.it tiscali.it seznam.cz
    wp.pl o2.pl interia.pl onet.pl rediffmail.com bol.com.br uol.com.br terra.com.br fastmail.com
    hey.com mail.com rambler.ru bk.ru inbox.ru list.ru ukr.net
    """.split()
)


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL_DOMAINS
