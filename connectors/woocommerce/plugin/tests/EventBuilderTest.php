<?php
/**
 * Relay_SMS_Event_Builder: the wire shape of consent and cart events.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class EventBuilderTest extends TestCase {

	private function builder() {
		return new Relay_SMS_Event_Builder( 'https://shop.example.by' );
	}

	public function test_consent_granted_carries_the_evidence() {
		$event = $this->builder()->consent( true, '8 029 123-45-67', 'Согласен на SMS', '203.0.113.7', 'UA', 1768477802, '727' );
		$this->assertSame( 'woo-consent-shop.example.by-727-granted', $event['event_id'] );
		$this->assertSame( 'consent.granted', $event['type'] );
		$this->assertSame( '2026-01-15T11:50:02+00:00', $event['occurred_at'] );
		$this->assertSame( array( 'platform' => 'woocommerce', 'account' => 'https://shop.example.by/' ), $event['source'] );
		$this->assertSame( '8 029 123-45-67', $event['customer']['phone'] );
		$this->assertSame(
			array(
				'purpose'     => 'marketing',
				'channel'     => 'sms',
				'granted'     => true,
				'source'      => 'checkout_checkbox',
				'wording'     => 'Согласен на SMS',
				'captured_at' => '2026-01-15T11:50:02+00:00',
				'ip'          => '203.0.113.7',
				'user_agent'  => 'UA',
			),
			$event['consent']
		);
	}

	public function test_revocation_and_a_bad_ip_leave_out_what_is_unknown() {
		$event = $this->builder()->consent( false, '+375291234567', 'w', 'not-an-ip', '', 1768477802, '9' );
		$this->assertSame( 'consent.revoked', $event['type'] );
		$this->assertSame( 'woo-consent-shop.example.by-9-revoked', $event['event_id'] );
		$this->assertFalse( $event['consent']['granted'] );
		$this->assertArrayNotHasKey( 'ip', $event['consent'] );
		$this->assertArrayNotHasKey( 'user_agent', $event['consent'] );
	}

	public function test_cart_abandoned_is_one_event_per_cart_state() {
		$cart  = array( 'cart_id' => 'c-1', 'phone' => '+375291234567', 'name' => '', 'total' => '12.5', 'currency' => 'byn', 'items' => array( array( 'name' => 'Чай', 'quantity' => 3 ) ), 'updated_at' => 1768474200 );
		$event = $this->builder()->cart_abandoned( $cart, 60, 'https://shop.example.by/?relay-sms-cart=c-1' );
		$this->assertSame( 'woo-cart-shop.example.by-c-1-1768474200', $event['event_id'] );
		$this->assertSame( '2026-01-15T11:50:00+00:00', $event['occurred_at'] );
		$this->assertSame( array( 'id' => 'c-1', 'total' => '12.50', 'currency' => 'BYN', 'url' => 'https://shop.example.by/?relay-sms-cart=c-1' ), $event['cart'] );
		$this->assertSame( array( 'phone' => '+375291234567' ), $event['customer'] );
		$cart['updated_at'] = 1768474300;
		$this->assertNotSame( $event['event_id'], $this->builder()->cart_abandoned( $cart, 60, '' )['event_id'] );
	}

	public function test_cart_recovered_names_the_cart_and_order() {
		$event = $this->builder()->cart_recovered( array( 'cart_id' => 'c-1', 'phone' => '' ), '727', 1768479000 );
		$this->assertSame( 'cart.recovered', $event['type'] );
		$this->assertSame( array( 'id' => 'c-1' ), $event['cart'] );
		$this->assertSame( array( 'order_id' => '727' ), $event['data'] );
		$this->assertArrayNotHasKey( 'customer', $event );
	}

	public function test_slug_is_short_ascii_and_distinct() {
		$this->assertSame( 'shop.example.by-en', Relay_SMS_Event_Builder::slug( 'https://Shop.Example.by/en/' ) );
		$this->assertSame( '127.0.0.1-8080', Relay_SMS_Event_Builder::slug( 'http://127.0.0.1:8080/' ) );
		$long = 'https://shop.example.by/' . str_repeat( 'x', 80 ) . '/';
		$this->assertSame( 60, strlen( Relay_SMS_Event_Builder::slug( $long ) ) );
		$this->assertNotSame( Relay_SMS_Event_Builder::slug( $long ), Relay_SMS_Event_Builder::slug( $long . 'y/' ) );
	}
}
